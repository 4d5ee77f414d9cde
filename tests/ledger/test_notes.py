"""Signed notes, checkpoints and cosignatures: Go's published vectors and bad input."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcred.ledger.checkpoints import Checkpoint, open_checkpoint, parse_checkpoint
from microcred.ledger.errors import CheckpointError
from microcred.ledger.notes import (
    COSIGNATURE_V1,
    NoteSigner,
    NoteVerifier,
    cosign_note,
    parse_note,
    sign_note,
    verify_cosignature,
    verify_note,
)

# golang.org/x/mod/sumdb/note: the PeterNeumann example key pair and signed note.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
# transparency-dev/formats: a cosignature/v1 (type 0x04) witness verifier key.
COSIGNATURE_VERIFIER = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"


def test_signing_reproduces_gos_published_note_byte_for_byte() -> None:
    signer = NoteSigner.parse(GO_SIGNER)
    assert signer.verifier.encode() == GO_VERIFIER
    assert signer.encode() == GO_SIGNER
    assert sign_note(GO_TEXT, signer).encode() == GO_NOTE
    verify_note(parse_note(GO_NOTE), NoteVerifier.parse(GO_VERIFIER))


def test_published_cosignature_key_parses_with_its_key_id() -> None:
    verifier = NoteVerifier.parse(COSIGNATURE_VERIFIER)
    assert verifier.key_type == COSIGNATURE_V1
    assert verifier.encode() == COSIGNATURE_VERIFIER


def test_an_altered_note_or_foreign_key_fails_with_a_reason() -> None:
    verifier = NoteVerifier.parse(GO_VERIFIER)
    with pytest.raises(CheckpointError, match="does not verify"):
        verify_note(parse_note(GO_NOTE.replace("cryptography", "cryptographY")), verifier)
    stranger = NoteSigner.generate("PeterNeumann").verifier
    with pytest.raises(CheckpointError, match="no signature by the key"):
        verify_note(parse_note(GO_NOTE), stranger)


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+!!!",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq",
    ],
)
def test_malformed_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(CheckpointError):
        NoteVerifier.parse(vkey)


@pytest.mark.parametrize(
    "message",
    [
        "no blank line\n— a AAAA\n",
        "text\n\n",
        "text\n\nnot a signature line\n",
        "text\n\n— PeterNeumann !!!\n",
        "text\n\n— PeterNeumann AAA=\n",
    ],
)
def test_malformed_notes_are_refused(message: str) -> None:
    with pytest.raises(CheckpointError):
        parse_note(message)


def test_cosignature_round_trip_and_its_signed_message() -> None:
    witness = NoteSigner.generate("witness.example/w1", COSIGNATURE_V1)
    body = Checkpoint("log.example/ledger", 5, bytes(32), 1700000000).body()
    cosignature = cosign_note(body, witness, 1700000100)
    assert cosignature.signature[:8] == (1700000100).to_bytes(8, "big")
    note = parse_note(sign_note(body, NoteSigner.generate("log.example/ledger")).encode())
    cosigned = note.with_signature(cosignature)
    assert verify_cosignature(parse_note(cosigned.encode()), witness.verifier) == 1700000100
    forged = cosigned.encode().replace("\n5\n", "\n6\n")
    with pytest.raises(CheckpointError):
        verify_cosignature(parse_note(forged), witness.verifier)


def test_open_checkpoint_requires_the_log_signature_and_the_witness_quorum() -> None:
    log = NoteSigner.generate("log.example/ledger")
    witnesses = [NoteSigner.generate(f"w{i}.example", COSIGNATURE_V1) for i in range(3)]
    body = Checkpoint("log.example/ledger", 9, b"\x07" * 32, 1700000000).body()
    note = sign_note(body, log)
    for witness in witnesses[:2]:
        note = note.with_signature(cosign_note(body, witness, 1700000001))
    keys = [w.verifier for w in witnesses]
    opened = open_checkpoint(note.encode(), log.verifier, keys, required_witnesses=2)
    assert opened.checkpoint == Checkpoint("log.example/ledger", 9, b"\x07" * 32, 1700000000)
    assert sorted(opened.cosigners) == ["w0.example", "w1.example"]
    with pytest.raises(CheckpointError, match=r"2 valid witness cosignature.*3 are required"):
        open_checkpoint(note.encode(), log.verifier, keys, required_witnesses=3)
    impostor = NoteSigner.generate("log.example/ledger")
    with pytest.raises(CheckpointError, match="no signature by the key"):
        open_checkpoint(note.encode(), impostor.verifier)
    bad_signature = note.encode().replace(note.signatures[0].line()[-10:], "AAAAAAAAA=")
    with pytest.raises(CheckpointError):
        open_checkpoint(bad_signature, log.verifier)


@pytest.mark.parametrize(
    "body",
    [
        "origin\n",
        "origin\n-1\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "origin\n012\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "origin\n12\n" + base64.b64encode(bytes(31)).decode() + "\n",
        "origin\n12\nnot base64\n",
        "has space\n12\n" + base64.b64encode(bytes(32)).decode() + "\n",
    ],
)
def test_malformed_checkpoints_are_refused(body: str) -> None:
    with pytest.raises(CheckpointError):
        parse_checkpoint(body)


@given(
    origin=st.from_regex(r"[a-z0-9.]{1,20}/[a-z]{1,10}", fullmatch=True),
    size=st.integers(min_value=0, max_value=2**63 - 1),
    root=st.binary(min_size=32, max_size=32),
    timestamp=st.none() | st.integers(min_value=0, max_value=2**40),
)
def test_checkpoint_bodies_round_trip(
    origin: str, size: int, root: bytes, timestamp: int | None
) -> None:
    checkpoint = Checkpoint(origin, size, root, timestamp)
    assert parse_checkpoint(checkpoint.body()) == checkpoint


@given(
    st.lists(
        st.text(
            alphabet=st.characters(exclude_characters="\n\r", exclude_categories=["Cs"]), min_size=1
        ),
        min_size=1,
        max_size=5,
    )
)
def test_any_signed_text_parses_back_to_itself(lines: list[str]) -> None:
    text = "".join(line + "\n" for line in lines)
    signer = NoteSigner.from_seed("fuzz.example", bytes(32))
    note = sign_note(text, signer)
    parsed = parse_note(note.encode())
    assert parsed == note
    verify_note(parsed, signer.verifier)


def test_text_that_is_not_utf8_is_refused_not_crashed_on() -> None:
    with pytest.raises(CheckpointError, match="UTF-8"):
        sign_note("\ud800\n", NoteSigner.generate("log.example"))
