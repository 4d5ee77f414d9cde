#!/usr/bin/env bash
# Translations (docs/i18n.md): extract the marked messages of the code and templates into
# a temporary messages.pot, merge them into each language's messages.po, and compile
# the .mo files the server reads. Run from the repository root after changing marked text;
# translate the new or fuzzy entries in the .po files, then run it again and commit both
# the .po and .mo files (tests/test_i18n.py fails while any message lacks a translation).
#   scripts/i18n.sh            extract, update, compile
#   scripts/i18n.sh compile    compile only (after editing a .po file)
#   scripts/i18n.sh init xx    start a new language xx (then add it to microcred.i18n.LOCALES)
#   scripts/i18n.sh extract F  only write the template of all messages to F (the tests use it)
set -euo pipefail
cd "$(dirname "$0")/.."
pybabel=${PYBABEL:-.venv/bin/pybabel}
locale_dir=src/microcred/locale
scratch=$(mktemp -t microcred-messages.XXXXXX.pot)
trap 'rm -f "$scratch"' EXIT
pot=$scratch

extract() {
  "$pybabel" extract -F babel.cfg --no-location --sort-output --project=microcred \
    --keywords=_ --keywords=N_ --keywords=gettext --keywords=ngettext:1,2 --keywords=pgettext:1c,2 --keywords=L_ --keywords=L_plural:1,2 \
    -o "$pot" src/microcred >/dev/null
}

case "${1:-all}" in
  extract)
    pot=$2
    extract
    ;;
  compile)
    "$pybabel" compile -d "$locale_dir" -D messages --statistics
    ;;
  init)
    extract
    "$pybabel" init -i "$pot" -d "$locale_dir" -D messages -l "$2"
    ;;
  all)
    extract
    "$pybabel" update -i "$pot" -d "$locale_dir" -D messages --ignore-pot-creation-date \
      --ignore-obsolete --no-fuzzy-matching
    "$pybabel" compile -d "$locale_dir" -D messages --statistics
    ;;
  *)
    echo "usage: scripts/i18n.sh [all|compile|init LANG]" >&2
    exit 2
    ;;
esac
