#!/usr/bin/env bash
# Debian packages: Chromium (browser tests), PostgreSQL (database tests) and the Noto fonts that PDF
# certificates set Chinese, Japanese, Korean, Arabic, Hebrew, Indic and Thai names in.
# `system-deps.sh fonts` installs the fonts only (make install, make demo).
set -euo pipefail
missing=()
if [ "${1:-}" != fonts ]; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
fi
fonts=()
[ -f /usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf ] || fonts+=(fonts-noto-core)
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || fonts+=(fonts-noto-cjk)
if [ ${#missing[@]} -eq 0 ] && [ ${#fonts[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  if [ ${#missing[@]} -ne 0 ]; then
    echo "system-deps: missing Debian packages: ${missing[*]} (run 'sudo apt-get install ${missing[*]}');" >&2
    echo "system-deps: the tests that need them will be skipped." >&2
  fi
  if [ ${#fonts[@]} -ne 0 ]; then
    echo "system-deps: PDF certificates print CJK, Arabic, Indic and Thai names as U+FFFD until 'sudo apt-get install ${fonts[*]}' (or MICROCRED_CERTIFICATE_FONTS_DIR names the Noto fonts)." >&2
  fi
  exit 0
fi
packages=("${missing[@]}" "${fonts[@]}")
echo "system-deps: installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || [ ${#missing[@]} -eq 0 ]  # the fonts alone never fail the step
if [ ${#missing[@]} -ne 0 ]; then
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ${#fonts[@]} -ne 0 ]; then
  # Optional: without them certificates still render (U+FFFD for what DejaVu Sans lacks).
  apt-get install -y -qq --no-install-recommends "${fonts[@]}" >/dev/null ||
    echo "system-deps: could not install ${fonts[*]}; certificates print those scripts as U+FFFD." >&2
fi
