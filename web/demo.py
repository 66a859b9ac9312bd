"""The Kediri demo: the signing of 23 September 2019 in the Joyoboyo room of Balaikota Kediri.

`build_demo` writes it into an empty database through the real code path
(`signing.actions`, the configured key derivation), so that the pages, the API, the audit
and the certificates show what a real ledger looks like. What is demo data is marked:
the organisation is "Pemerintah Kota Kediri (data demo)", the OPD heads carry placeholder
names ending in "(data demo)", and every NIP is made up (a sequence number 9xx); no NIP
here belongs to anyone. The Wali Kota and the Wakil Wali Kota are pejabat negara with no
NIP: they are registered without one and log in with the identifier Ikrar gives them
(drawn from a fixed seed, so that the demo's logins stay the same). Positions are written
in full as under a signature (naskah dinas), each unit one of Kota Kediri's Perangkat
Daerah (`signing.agencies`).

The ledger replays that day: it is created, the two Diskominfo admins and the officials
enrol in the week before (each key vouched for by an admin; one official's lost key is
revoked and replaced with a second admin's approval), the commitment is published at
09.00 WIB on 23 September 2019, with a deadline at the end of 2030, and ten officials sign
it that morning; three weeks later one of them is moved to another position (a mutasi,
`official.updated`: the signature keeps the capacity it was made in). Six OPD heads — one of
them acting (Plt.) — have not signed yet and can do so in the demo, at today's time.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ledger.errors import AlreadyInitialized
from ledger.nip import is_official_id, new_official_id
from signing import actions, vouching

from . import accounts
from .runtime import Runtime

logger = logging.getLogger(__name__)

DEMO_ORG = "Pemerintah Kota Kediri (data demo)"
CREATED = datetime(2019, 9, 16, 1, 0, tzinfo=UTC)  # 08.00 WIB
PUBLISHED = datetime(2019, 9, 23, 2, 0, tzinfo=UTC)  # 09.00 WIB, the ceremony
DEADLINE = datetime(2030, 12, 31, 16, 59, tzinfo=UTC)  # 23.59 WIB on 31 December 2030
MUTASI = datetime(2019, 10, 14, 2, 0, tzinfo=UTC)  # three weeks after the ceremony
SLUG = "smart-city-kediri-2019"
TITLE = "Komitmen Bersama Gerakan Smart City Kota Kediri"
# One paragraph a line, so that the text flows on any screen and in the certificate.
_PARAGRAPHS = (
    "KOMITMEN BERSAMA\nGERAKAN SMART CITY KOTA KEDIRI",
    (
        "Pada hari ini, Senin, tanggal dua puluh tiga September tahun dua ribu sembilan belas, bertempat di "
        "Ruang Joyoboyo Balaikota Kediri, kami yang bertanda tangan di bawah ini, Wali Kota Kediri, Wakil "
        "Wali Kota Kediri, Sekretaris Daerah, para Asisten, dan para Kepala Perangkat Daerah di lingkungan "
        "Pemerintah Kota Kediri, menyatakan komitmen bersama untuk melaksanakan Gerakan Smart City Kota "
        "Kediri sebagai berikut:"
    ),
    (
        "1. Setiap Perangkat Daerah menyusun program dan kegiatan smart city secara cermat, bertahap, dan "
        "sesuai dengan kebutuhan nyata, bukan sekadar mengikuti perkembangan teknologi."
    ),
    (
        "2. Setiap sistem yang dibangun harus melayani warga dengan cepat, mudah, dan tepat, sehingga "
        "manfaatnya benar-benar dirasakan oleh masyarakat Kota Kediri."
    ),
    (
        "3. Setiap aplikasi yang akan dibeli atau dibangun oleh Perangkat Daerah terlebih dahulu diverifikasi"
        " oleh Dinas Komunikasi dan Informatika, agar tidak tumpang tindih, dapat saling terhubung, dan aman "
        "digunakan."
    ),
    ("4. Kami melaksanakan komitmen ini dengan penuh tanggung jawab dan bersedia dievaluasi secara berkala."),
    "Demikian komitmen bersama ini kami buat dengan penuh kesadaran untuk dilaksanakan sebaik-baiknya.",
    "Kediri, 23 September 2019",
    (
        "Catatan: teks demo, disusun dari pokok-pokok komitmen pada acara tersebut; bukan dokumen resmi "
        "Pemerintah Kota Kediri."
    ),
)
TEXT = "\n\n".join(_PARAGRAPHS) + "\n"


@dataclass(frozen=True)
class DemoPerson:
    nip: str  # a made-up NIP, or for a pejabat negara the identifier Ikrar gives (`demo_identifier`)
    name: str
    title: str  # the full position, as written under a signature
    unit: str  # one of Kota Kediri's Perangkat Daerah
    role: str = "official"
    signs: bool = False  # signed at the ceremony
    asked: bool = True  # a required signatory of the commitment
    rank: str | None = None  # pangkat/golongan
    acting: str | None = None  # Plt. or Plh.
    appointment: str | None = None

    @property
    def has_nip(self) -> bool:
        return not is_official_id(self.nip)

    @property
    def password(self) -> str:
        return f"masuk-{self.nip[-3:]}-demo"

    @property
    def passphrase(self) -> str:
        return f"tanda-tangan-{self.nip[-3:]}"


def _seeded(name: str) -> Callable[[str], str]:
    """The demo's fixed draw of a pejabat negara's identifier (the same at every build)."""
    return random.Random(f"ikrar-demo {name}").choice


def demo_identifier(name: str) -> str:
    """The identifier Ikrar gives the demo's `name` when it registers them without a NIP."""
    return new_official_id(_seeded(name))


_SETDA = "Sekretariat Daerah Kota Kediri"
_KOTA = "Pemerintah Kota Kediri"
_MAYOR, _VICE = "Abdullah Abu Bakar, S.E.", "Hj. Lilik Muhibbah, S.Ag."
PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(demo_identifier(_MAYOR), _MAYOR, "Wali Kota Kediri", _KOTA, signs=True),
    DemoPerson(demo_identifier(_VICE), _VICE, "Wakil Wali Kota Kediri", _KOTA, signs=True),
    DemoPerson(
        "196511201989031903",
        "Budwi Sunu",
        "Sekretaris Daerah Kota Kediri",
        _SETDA,
        signs=True,
        rank="Pembina Utama Madya (IV/d)",
    ),
    DemoPerson(
        "196703221991032904",
        "Enny Endarjati",
        "Asisten Perekonomian dan Pembangunan Sekretariat Daerah Kota Kediri",
        _SETDA,
        signs=True,
        rank="Pembina Utama Muda (IV/c)",
    ),
    DemoPerson(
        "197102051996031905",
        "Hendra Wijaya (data demo)",
        "Kepala Dinas Komunikasi dan Informatika Kota Kediri",
        "Dinas Komunikasi dan Informatika",
        signs=True,
        rank="Pembina Utama Muda (IV/c)",
    ),
    DemoPerson(
        "196906171994032906",
        "Sri Wahyuni (data demo)",
        "Kepala Dinas Pendidikan Kota Kediri",
        "Dinas Pendidikan",
        signs=True,
    ),
    DemoPerson(
        "197209091999032907",
        "dr. Rina Kusumawati (data demo)",
        "Kepala Dinas Kesehatan Kota Kediri",
        "Dinas Kesehatan",
        signs=True,
    ),
    DemoPerson(
        "197003031995031908",
        "Agus Setiawan (data demo)",
        "Kepala Dinas Pekerjaan Umum dan Penataan Ruang Kota Kediri",
        "Dinas Pekerjaan Umum dan Penataan Ruang",
        signs=True,
    ),
    DemoPerson(
        "196801011993031909",
        "Bambang Prasetyo (data demo)",
        "Kepala Dinas Kependudukan dan Pencatatan Sipil Kota Kediri",
        "Dinas Kependudukan dan Pencatatan Sipil",
        signs=True,
    ),
    DemoPerson(
        "197404212000032910",
        "Dewi Lestari (data demo)",
        "Kepala Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kota Kediri",
        "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
        signs=True,
    ),
    DemoPerson(
        "196607151990031911",
        "Joko Susilo (data demo)",
        "Kepala Dinas Perhubungan Kota Kediri",
        "Dinas Perhubungan",
    ),
    DemoPerson(
        "197108121997032912",
        "Siti Rahayu (data demo)",
        "Kepala Dinas Lingkungan Hidup, Kebersihan dan Pertamanan Kota Kediri",
        "Dinas Lingkungan Hidup, Kebersihan dan Pertamanan",
        acting="Plt.",
        appointment="800/1234/419.033/2019 (data demo)",
    ),
    DemoPerson(
        "196909301994031913",
        "Teguh Santoso (data demo)",
        "Kepala Badan Perencanaan Pembangunan Daerah Kota Kediri",
        "Badan Perencanaan Pembangunan Daerah",
    ),
    DemoPerson(
        "197301271998032914",
        "Yuni Astuti (data demo)",
        "Kepala Badan Pengelolaan Keuangan dan Aset Daerah Kota Kediri",
        "Badan Pengelolaan Keuangan dan Aset Daerah",
    ),
    DemoPerson("196706081992031915", "Eko Purnomo (data demo)", "Kepala Dinas Sosial Kota Kediri", "Dinas Sosial"),
    DemoPerson(
        "197511032001032916",
        "Nur Hidayati (data demo)",
        "Kepala Dinas Koperasi dan Usaha Mikro Kota Kediri",
        "Dinas Koperasi dan Usaha Mikro",
    ),
    DemoPerson(
        "198802192011011917",
        "Operator Diskominfo (data demo)",
        "Pranata Komputer Ahli Muda pada Dinas Komunikasi dan Informatika Kota Kediri",
        "Dinas Komunikasi dan Informatika",
        role="admin",
        asked=False,
    ),
    DemoPerson(
        "199005242014022918",
        "Rahmat Hidayat (data demo)",
        "Pranata Komputer Ahli Pertama pada Dinas Komunikasi dan Informatika Kota Kediri",
        "Dinas Komunikasi dan Informatika",
        role="admin",
        asked=False,
    ),
)
ADMIN, SECOND_ADMIN = (p for p in PEOPLE if p.role == "admin")
REPLACED = PEOPLE[10]  # lost the laptop holding the first key: revoked, then a vouched replacement
MOVED = PEOPLE[8]  # signed at the ceremony, then moved to another position (a mutasi)
MOVED_TO = ("Asisten Administrasi Umum Sekretariat Daerah Kota Kediri", _SETDA)


def is_empty(runtime: Runtime) -> bool:
    """No ledger and nobody registered: the only state `build_demo` writes into."""
    if runtime.ledger.is_initialized():
        return False
    return not runtime.ledger.register.has_officials()


def build_demo(runtime: Runtime, progress: Callable[[str], None] = lambda _: None) -> None:
    """Write the demo into an empty database. Raises AlreadyInitialized otherwise."""
    if not is_empty(runtime):
        raise AlreadyInitialized("the database is not empty; the demo is built only into an empty one")
    ledger = runtime.ledger
    runtime.create_ledger(DEMO_ORG, runtime.settings.origin, CREATED)
    ctx = runtime.context()
    progress("ledger created")
    moment = CREATED
    # The first admin is attested by the ledger's own key; the second admin by the first,
    # approved with the ledger's key; every official by an admin (rules version 3).
    for person in (ADMIN, SECOND_ADMIN, *(p for p in PEOPLE if p.role != "admin")):
        moment += timedelta(minutes=20)
        official = actions.register_official(
            ledger,
            person.nip if person.has_nip else None,  # a pejabat negara has none: Ikrar gives an identifier
            person.name,
            person.title,
            person.unit,
            person.role,
            moment,
            rank=person.rank,
            acting=person.acting,
            appointment=person.appointment,
            choose=_seeded(person.name),
        )
        assert official.nip == person.nip, "the demo's identifiers are drawn from a fixed seed"
        if person is not ADMIN:
            vouching.invite(ctx, official, ADMIN.nip, ADMIN.passphrase, moment, runtime.settings.enrol_hours)
        if person is SECOND_ADMIN:
            vouching.approve(ctx, official, vouching.LEDGER, None, moment + timedelta(minutes=1))
        passphrase = person.passphrase if person is not REPLACED else person.passphrase + "-lama"
        actions.enrol(ctx, person.nip, passphrase, moment + timedelta(minutes=5), person.password)
        accounts.set_password(ledger, person.nip, person.password, moment + timedelta(minutes=5))
        progress(f"enrolled {person.name}")
    _replace_key(runtime, REPLACED, moment + timedelta(hours=2))
    signers = [p.nip for p in PEOPLE if p.asked]  # in protocol order
    actions.publish(ctx, SLUG, TITLE, TEXT, signers, ADMIN.nip, PUBLISHED, DEADLINE)
    progress("commitment published")
    moment = PUBLISHED + timedelta(minutes=30)
    for person in PEOPLE:
        if person.signs:
            moment += timedelta(minutes=3)
            actions.sign(ctx, SLUG, person.nip, person.passphrase, moment)
            progress(f"signed by {person.name}")
    title, unit = MOVED_TO
    reason = "Mutasi: Keputusan Wali Kota Kediri (data demo)"
    actions.update_official(ctx, MOVED.nip, ADMIN.nip, ADMIN.passphrase, reason, MUTASI, title=title, unit=unit)
    progress(f"{MOVED.name} moved to another position")
    logger.info("demo built: %d officials, %d signatures", len(PEOPLE), sum(p.signs for p in PEOPLE))


def _replace_key(runtime: Runtime, person: DemoPerson, moment: datetime) -> None:
    """The story of a replacement: the first admin revokes a lost key and invites the
    official again; the second admin approves; the official enrols a new key."""
    ctx = runtime.context()
    official = actions.get_official(runtime.ledger, person.nip)
    actions.revoke(ctx, person.nip, "laptop dinas hilang", ADMIN.nip, moment, ADMIN.passphrase)
    vouching.invite(ctx, official, ADMIN.nip, ADMIN.passphrase, moment + timedelta(minutes=10), 72)
    vouching.approve(ctx, official, SECOND_ADMIN.nip, SECOND_ADMIN.passphrase, moment + timedelta(minutes=30))
    actions.enrol(ctx, person.nip, person.passphrase, moment + timedelta(minutes=45), person.password)
