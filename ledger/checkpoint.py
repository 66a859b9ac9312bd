"""C2SP tlog-checkpoints (c2sp.org/tlog-checkpoint) and tlog-proofs (c2sp.org/tlog-proof@v1)."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from .errors import NoteInvalid, ProofInvalid
from .merkle import HASH_SIZE, Hash, verify_inclusion
from .note import NoteSigner, VerifierKey, b64decode, open_note

PROOF_HEADER = "c2sp.org/tlog-proof@v1"
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")


def _decimal(text: str, what: str) -> int:
    if not _DECIMAL.fullmatch(text):
        raise NoteInvalid(f"{what} is not a decimal number without leading zeros", code="number.malformed", what=what)
    return int(text)


def _hash(text: str, what: str) -> Hash:
    raw = b64decode(text, what)
    if len(raw) != HASH_SIZE:
        raise NoteInvalid(f"{what} is not a 32-byte hash", code="hash.malformed", what=what)
    return Hash(raw)


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin, size and root. `note` is the exact signed text, when known."""

    origin: str
    size: int
    root: Hash
    note: str = ""

    def body(self) -> str:
        """The three body lines that are signed."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    def signed(self, signer: NoteSigner) -> Checkpoint:
        return Checkpoint(self.origin, self.size, self.root, signer.sign(self.body()))

    @classmethod
    def open(cls, note: str | bytes, verifier: VerifierKey, origin: str | None = None) -> Checkpoint:
        """Verify a checkpoint note and parse its body (exactly three lines).

        Raises NoteInvalid when the signature, the body or the origin is wrong.
        """
        text = open_note(note, verifier)
        lines = text.split("\n")[:-1]
        if len(lines) != 3:
            raise NoteInvalid(
                f"a checkpoint body has three lines, this one has {len(lines)}",
                code="checkpoint.lines",
                lines=len(lines),
            )
        if origin is not None and lines[0] != origin:
            raise NoteInvalid(
                f"checkpoint is for origin {lines[0]!r}, not {origin!r}",
                code="checkpoint.origin",
                origin=lines[0],
                expected=origin,
            )
        if not lines[0]:
            raise NoteInvalid("checkpoint has an empty origin", code="checkpoint.origin_empty")
        note_text = note if isinstance(note, str) else note.decode()
        return cls(lines[0], _decimal(lines[1], "tree size"), _hash(lines[2], "root hash"), note_text)


@dataclass(frozen=True)
class TlogProof:
    """An offline proof that entry `index` is in the tree of a signed checkpoint."""

    index: int
    hashes: tuple[Hash, ...]
    checkpoint_note: str

    def text(self) -> str:
        lines = [PROOF_HEADER, f"index {self.index}"]
        lines += [base64.b64encode(h).decode() for h in self.hashes]
        return "\n".join(lines) + "\n\n" + self.checkpoint_note

    @classmethod
    def parse(cls, text: str | bytes) -> TlogProof:
        """Parse the text form; raises NoteInvalid naming what is malformed (nothing is verified)."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as e:
                raise NoteInvalid("proof is not UTF-8", code="proof.not_utf8") from e
        head, sep, checkpoint_note = text.partition("\n\n")
        if not sep:
            raise NoteInvalid("proof has no blank line before its checkpoint", code="proof.no_checkpoint")
        lines = head.split("\n")
        if lines[0] != PROOF_HEADER:
            raise NoteInvalid(f"proof does not start with {PROOF_HEADER}", code="proof.header", header=PROOF_HEADER)
        rest = lines[1:]
        if rest and rest[0].startswith("extra "):
            rest = rest[1:]  # opaque and unauthenticated: never trusted, so not kept
        if not rest or not rest[0].startswith("index "):
            raise NoteInvalid("proof has no index line", code="proof.no_index")
        index = _decimal(rest[0][len("index ") :], "index")
        if len(rest) > 64:
            raise NoteInvalid("proof has too many hashes", code="proof.too_many_hashes")
        hashes = tuple(_hash(line, f"proof hash {i}") for i, line in enumerate(rest[1:]))
        return cls(index, hashes, checkpoint_note)

    def verify(self, leaf: Hash, verifier: VerifierKey, origin: str | None = None) -> Checkpoint:
        """Check the checkpoint's signature and that `leaf` is at `index` in its tree.

        Returns the checkpoint. Raises NoteInvalid (bad checkpoint) or ProofInvalid (bad path).
        """
        checkpoint = Checkpoint.open(self.checkpoint_note, verifier, origin)
        if self.index >= checkpoint.size:
            raise ProofInvalid(
                f"entry {self.index} is not in the checkpoint of size {checkpoint.size}",
                code="proof.outside_checkpoint",
                index=self.index,
                size=checkpoint.size,
            )
        verify_inclusion(leaf, self.index, checkpoint.size, self.hashes, checkpoint.root)
        return checkpoint
