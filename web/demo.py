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

In 2026 the commitment's third point is kept on the same ledger (rules version 5,
docs/APPLICATIONS.md): two Diskominfo reviewers and two PD operators enrol, the admins give
the roles (the Kepala Dinas Kominfo decides, the Kepala of five Perangkat Daerah sign their
PD's requests), and five requests go through every state — recommended, recommended with
notes after one return, not recommended because the national shared application SRIKANDI
serves, returned for revision, and one waiting for its review. Their names and contacts end
in "(data demo)", their descriptions say they are no official request, and their PDF
attachments are made at build time, each page headed as demo data; one is internal.
"""

from __future__ import annotations

import hashlib
import io
import logging
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

from ledger.application import CHECKLIST, DECIDER, PD_HEAD, PD_OPERATOR
from ledger.errors import AlreadyInitialized
from ledger.nip import is_official_id, new_official_id
from ledger.store import Ledger
from signing import actions, apps, vouching
from signing.actions import Context
from signing.apps import AttachmentIn

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
    runtime.create_ledger(DEMO_ORG, runtime.settings.origin, CREATED)
    ctx = runtime.context()
    progress("ledger created")
    # The first admin is attested by the ledger's own key; the second admin by the first,
    # approved with the ledger's key; every official by an admin (rules version 3).
    order = (ADMIN, SECOND_ADMIN, *(p for p in PEOPLE if p.role != "admin"))
    with _password_hashes((*order, *STAFF)) as hashes:
        moment = CREATED
        for person in order:
            moment += timedelta(minutes=20)
            _enrol(runtime, person, moment, hashes)
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
        _verification(runtime, hashes, progress)
    logger.info(
        "demo built: %d officials, %d signatures, %d roles",
        len(PEOPLE) + len(STAFF),
        sum(p.signs for p in PEOPLE),
        len(DEMO_ROLES),
    )


class _Hashes:
    """The demo's login passwords, hashed (argon2id) on a second thread while the first one
    makes and opens keys: a hash takes as long as a key's derivation, and the demo has some
    twenty of each, so the build takes hardly longer than its keys alone."""

    def __init__(self, pool: ThreadPoolExecutor, people: Sequence[DemoPerson]) -> None:
        self._hashes: dict[str, Future[str]] = {p.nip: pool.submit(accounts.hash_password, p.password) for p in people}

    def of(self, person: DemoPerson) -> str:
        return self._hashes[person.nip].result()


@contextmanager
def _password_hashes(people: Sequence[DemoPerson]) -> Iterator[_Hashes]:
    """The passwords of `people` hashed in their order, on one thread beside this one."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-passwords")
    try:
        yield _Hashes(pool, people)
    finally:
        pool.shutdown(cancel_futures=True)


def _enrol(runtime: Runtime, person: DemoPerson, moment: datetime, hashes: _Hashes) -> None:
    """Register `person`, have an admin vouch for them (the first admin: the ledger's key; the
    second: approved with it), enrol their key and set their login password."""
    ctx = runtime.context()
    official = actions.register_official(
        runtime.ledger,
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
    accounts.set_password(runtime.ledger, person.nip, person.password, moment + timedelta(minutes=5), hashes.of(person))


def _replace_key(runtime: Runtime, person: DemoPerson, moment: datetime) -> None:
    """The story of a replacement: the first admin revokes a lost key and invites the
    official again; the second admin approves; the official enrols a new key."""
    ctx = runtime.context()
    official = actions.get_official(runtime.ledger, person.nip)
    actions.revoke(ctx, person.nip, "laptop dinas hilang", ADMIN.nip, moment, ADMIN.passphrase)
    vouching.invite(ctx, official, ADMIN.nip, ADMIN.passphrase, moment + timedelta(minutes=10), 72)
    vouching.approve(ctx, official, SECOND_ADMIN.nip, SECOND_ADMIN.passphrase, moment + timedelta(minutes=30))
    actions.enrol(ctx, person.nip, person.passphrase, moment + timedelta(minutes=45), person.password)


# -- the verification of applications (rules version 5; docs/APPLICATIONS.md) ------------------
#
# In 2026 Diskominfo keeps the commitment's third point on the ledger: the Kepala Dinas
# Kominfo decides, two reviewers of the office review, the Kepala of five Perangkat Daerah
# sign their requests, and two PD operators prepare them. Five requests go through every
# state; their PDF attachments are made here, each page marked as demo data.

VERIFICATION = datetime(2026, 1, 12, 1, 0, tzinfo=UTC)  # 08.00 WIB: the staff of the process enrol
KOMINFO = "Dinas Komunikasi dan Informatika"


def _wib(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of 2026 given in WIB (UTC+7), as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=7)


# The people of the process who are not at the ceremony: registered and enrolled in 2026.
STAFF: tuple[DemoPerson, ...] = (
    DemoPerson(
        "198607142010012919",
        "Dian Permatasari, S.Kom. (data demo)",
        "Pranata Komputer Ahli Madya pada Dinas Komunikasi dan Informatika Kota Kediri",
        KOMINFO,
        asked=False,
    ),
    DemoPerson(
        "199104032015031920",
        "Fajar Nugroho, S.T. (data demo)",
        "Sandiman Ahli Muda pada Dinas Komunikasi dan Informatika Kota Kediri",
        KOMINFO,
        asked=False,
    ),
    DemoPerson(
        "199308222018012921",
        "Ayu Wulandari, A.Md.Kom. (data demo)",
        "Pranata Komputer Ahli Pertama pada Dinas Kesehatan Kota Kediri",
        "Dinas Kesehatan",
        asked=False,
    ),
    DemoPerson(
        "199502112019031922",
        "Rizky Pratama (data demo)",
        "Pranata Komputer Terampil pada Dinas Perhubungan Kota Kediri",
        "Dinas Perhubungan",
        asked=False,
    ),
)
REVIEWER, SECOND_REVIEWER, DINKES_OPERATOR, DISHUB_OPERATOR = STAFF
KOMINFO_HEAD = PEOPLE[4]  # Kepala Dinas Komunikasi dan Informatika
DISDIK_HEAD, DINKES_HEAD = PEOPLE[5], PEOPLE[6]
DISHUB_HEAD, DLHKP_HEAD = PEOPLE[10], PEOPLE[11]  # DLHKP's is the acting (Plt.) Kepala
KOPERASI_HEAD = PEOPLE[15]


@dataclass(frozen=True)
class DemoRole:
    """A role given in the demo by an admin's signed entry (`role.assigned`)."""

    person: DemoPerson
    role: str
    unit: str
    reason: str


_TEAM = "Keputusan Kepala Dinas Kominfo tentang Tim Verifikasi Aplikasi Perangkat Daerah (data demo)"
DEMO_ROLES: tuple[DemoRole, ...] = (
    DemoRole(KOMINFO_HEAD, DECIDER, KOMINFO, "Kepala Dinas Komunikasi dan Informatika Kota Kediri (data demo)"),
    DemoRole(REVIEWER, "reviewer", KOMINFO, _TEAM),
    DemoRole(SECOND_REVIEWER, "reviewer", KOMINFO, _TEAM),
    *(
        DemoRole(head, PD_HEAD, head.unit, f"Kepala Perangkat Daerah, {head.unit} (data demo)")
        for head in (DISDIK_HEAD, DINKES_HEAD, KOPERASI_HEAD, DISHUB_HEAD, DLHKP_HEAD)
    ),
    DemoRole(DINKES_OPERATOR, PD_OPERATOR, "Dinas Kesehatan", "Surat tugas Kepala Dinas Kesehatan (data demo)"),
    DemoRole(DISHUB_OPERATOR, PD_OPERATOR, "Dinas Perhubungan", "Surat tugas Kepala Dinas Perhubungan (data demo)"),
)


def roles_of(nip: str) -> tuple[DemoRole, ...]:
    """The demo roles the person `nip` holds (for the logins `ikrar demo` prints)."""
    return tuple(r for r in DEMO_ROLES if r.person.nip == nip)


@dataclass(frozen=True)
class DemoDocument:
    """A PDF attached to a demo request, made at build time from the request's own words:
    a Kerangka Acuan Kerja (``kak``), an analisis kebutuhan (``needs``), a rencana anggaran
    biaya (``budget``) or a DPIA (``dpia``)."""

    title: str
    file: str
    form: str
    internal: bool = False


_NOTE = "Data demo: bukan permohonan resmi Pemerintah Kota Kediri."
_SPBE = "Peraturan Presiden Nomor 95 Tahun 2018 tentang Sistem Pemerintahan Berbasis Elektronik."
_PANRB = "Peraturan Menteri PANRB Nomor 59 Tahun 2020 tentang Pemantauan dan Evaluasi SPBE."
_PDP = "Undang-Undang Nomor 27 Tahun 2022 tentang Pelindungan Data Pribadi."
_PHONE = "(0354) 000000 (data demo)"


def _request(**fields: Any) -> dict[str, Any]:
    """A request object (`ledger.application.REQUEST`): the optional texts empty unless given."""
    optional = ("developer_unit", "user_unit", "shared_app", "shared_why_not", "vendor", "hosting_reason")
    return {
        **dict.fromkeys(optional, ""),
        "integration_note": "",
        "prepared_by": "",
        "attachments": [],
        **fields,
    }


SPMB = _request(
    name="Sistem Penerimaan Murid Baru (SPMB) Daring Kota Kediri (data demo)",
    description=(
        "Pengembangan aplikasi pendaftaran murid baru SD dan SMP negeri secara daring: pendaftaran, verifikasi "
        f"berkas, seleksi jalur domisili, afirmasi, mutasi dan prestasi, serta pengumuman hasil. {_NOTE}"
    ),
    agency=DISDIK_HEAD.unit,
    developer_unit="Bidang Aplikasi Informatika, Dinas Komunikasi dan Informatika",
    user_unit="Bidang Pembinaan SD dan Bidang Pembinaan SMP, Dinas Pendidikan",
    contact=f"Sekretariat Dinas Pendidikan Kota Kediri, {_PHONE}",
    legal_basis="\n".join(
        (
            _SPBE,
            "Peraturan Menteri Pendidikan Dasar dan Menengah Nomor 3 Tahun 2025 tentang Sistem Penerimaan Murid Baru.",
            _PDP,
        )
    ),
    problem=(
        "Aplikasi pendaftaran yang dipakai sejak 2020 belum mengenal jalur dan kuota SPMB; verifikasi domisili "
        "masih memakai fotokopi Kartu Keluarga, dan server melambat pada hari pertama pendaftaran."
    ),
    need=(
        "Jalur dan kuota SPMB; pemeriksaan NIK dan domisili ke layanan data kependudukan melalui SPLP; "
        "kapasitas untuk 8.000 pendaftar pada hari pertama."
    ),
    kind="development",
    goals=(
        "Pendaftaran sepenuhnya daring tanpa fotokopi berkas; hasil seleksi dapat diperiksa orang tua; "
        "pengaduan tertangani dalam dua hari kerja."
    ),
    users_internal=True,
    users_external=True,
    users_count=9000,
    target_date="2026-05-04",
    budget_amount=95_000_000,
    budget_source="APBD",
    fiscal_year=2026,
    builder="in_house",
    data_processed=(
        "Data calon murid dan orang tua: nama, NIK, nomor Kartu Keluarga, alamat, tanggal lahir, nilai rapor "
        "dan dokumen jalur afirmasi."
    ),
    personal_data=True,
    specific_personal_data=True,  # data anak (UU 27/2022 Pasal 4 ayat (2))
    dpia_done=True,
    hosting="city_dc",
    splp=True,
    sso=True,
    integration_note=(
        "NIK dan domisili diperiksa melalui SPLP; petugas sekolah masuk dengan SSO Pemerintah Kota Kediri."
    ),
    security_testing=(
        "Uji penetrasi oleh CSIRT Kota Kediri (Diskominfo) sebelum masa pendaftaran, pemindaian kerentanan "
        "bulanan, dan uji beban untuk 8.000 pendaftar."
    ),
)
SPMB_DOCUMENTS = (
    DemoDocument("Kerangka Acuan Kerja", "kak-spmb-2026.pdf", "kak"),
    DemoDocument("Analisis Kebutuhan", "analisis-kebutuhan-spmb-2026.pdf", "needs"),
)

RME = _request(
    name="Aplikasi Antrean dan Rekam Medis Elektronik Puskesmas (data demo)",
    description=(
        "Antrean daring dan rekam medis elektronik untuk sembilan Puskesmas Kota Kediri, terhubung dengan "
        f"platform SATUSEHAT Kementerian Kesehatan. {_NOTE}"
    ),
    agency=DINKES_HEAD.unit,
    developer_unit="Bidang Pelayanan Kesehatan, Dinas Kesehatan",
    user_unit="Puskesmas se-Kota Kediri",
    contact=f"{DINKES_OPERATOR.name}, Dinas Kesehatan Kota Kediri, {_PHONE}",
    legal_basis="\n".join(
        (_SPBE, "Peraturan Menteri Kesehatan Nomor 24 Tahun 2022 tentang Rekam Medis.", _PDP, _PANRB)
    ),
    problem=(
        "Rekam medis Puskesmas masih di kertas dan di lembar kerja; pasien antre sejak subuh; laporan ke "
        "SATUSEHAT diketik ulang oleh petugas."
    ),
    need=(
        "Antrean daring dengan perkiraan waktu layanan, rekam medis elektronik sesuai Permenkes 24/2022, dan "
        "pengiriman data kunjungan ke SATUSEHAT."
    ),
    kind="new",
    shared_app="SATUSEHAT",
    shared_why_not=(
        "SATUSEHAT adalah platform pertukaran data kesehatan nasional, bukan aplikasi pelayanan Puskesmas; "
        "aplikasi ini mengirim datanya ke SATUSEHAT sebagaimana diwajibkan Permenkes 24/2022."
    ),
    goals=(
        "Waktu tunggu pasien turun separuh; seluruh kunjungan Puskesmas tercatat elektronik dan terkirim ke SATUSEHAT."
    ),
    users_internal=True,
    users_external=True,
    users_count=120_000,
    target_date="2027-03-31",
    budget_amount=1_250_000_000,
    budget_source="APBD",
    fiscal_year=2027,
    builder="vendor",
    vendor="PT Sehat Digital Nusantara (data demo)",
    data_processed=(
        "Identitas pasien (nama, NIK, alamat, nomor peserta BPJS Kesehatan), riwayat kunjungan, diagnosis, "
        "tindakan, resep dan hasil laboratorium."
    ),
    personal_data=True,
    specific_personal_data=True,  # data kesehatan
    dpia_done=False,
    hosting="city_dc",
    splp=True,
    sso=True,
    integration_note="Data kunjungan ke SATUSEHAT melalui SPLP; kepesertaan BPJS Kesehatan melalui layanan resminya.",
    security_testing="Akan dilakukan oleh penyedia.",
)
RME_REVISED = {
    **RME,
    "dpia_done": True,
    "security_testing": (
        "Uji penetrasi oleh pihak ketiga bersertifikat sebelum go-live dan setiap tahun, ditinjau CSIRT Kota "
        "Kediri; enkripsi data saat disimpan dan dikirim; cadangan harian di pusat data Pemerintah Kota Kediri."
    ),
}
RME_DOCUMENTS = (
    DemoDocument("Kerangka Acuan Kerja", "kak-rme-puskesmas.pdf", "kak"),
    DemoDocument("Rencana Anggaran Biaya", "rab-rme-puskesmas.pdf", "budget", internal=True),
)
RME_DPIA = DemoDocument("Penilaian Dampak Pelindungan Data Pribadi (DPIA)", "dpia-rme-puskesmas.pdf", "dpia")

SURAT = _request(
    name="Sistem Informasi Persuratan dan Disposisi Elektronik (data demo)",
    description=(
        "Aplikasi berlangganan untuk surat masuk, surat keluar dan disposisi pimpinan di Dinas Koperasi dan "
        f"Usaha Mikro. {_NOTE}"
    ),
    agency=KOPERASI_HEAD.unit,
    user_unit="Sekretariat, Dinas Koperasi dan Usaha Mikro",
    contact=f"Sekretariat Dinas Koperasi dan Usaha Mikro Kota Kediri, {_PHONE}",
    legal_basis="\n".join((_SPBE, _PANRB, "Peraturan Wali Kota Kediri tentang Tata Naskah Dinas (data demo).")),
    problem="Surat dan disposisi masih dicatat di buku agenda; surat sering terlambat sampai ke bidang yang menangani.",
    need="Pencatatan surat masuk dan keluar, disposisi elektronik, dan penelusuran status surat.",
    kind="subscription",
    shared_app="SRIKANDI",
    shared_why_not=(
        "Penomoran dan format disposisi SRIKANDI dianggap belum sesuai kebiasaan kerja dinas; operator belum terlatih."
    ),
    goals="Setiap surat terlacak dari diterima sampai selesai ditindaklanjuti.",
    users_internal=True,
    users_external=False,
    users_count=45,
    target_date="2027-01-04",
    budget_amount=60_000_000,
    budget_source="APBD",
    fiscal_year=2027,
    builder="vendor",
    vendor="CV Arsip Cerdas Mandiri (data demo)",
    data_processed="Isi surat dinas, nama dan NIP pegawai, dan data pribadi warga yang termuat dalam surat.",
    personal_data=True,
    specific_personal_data=False,
    dpia_done=False,
    hosting="other",
    hosting_reason="Layanan SaaS: server milik penyedia di pusat data komersial di Jakarta.",
    splp=False,
    sso=False,
    security_testing="Penyedia memiliki sertifikat ISO/IEC 27001.",
)
SURAT_DOCUMENTS = (DemoDocument("Kerangka Acuan Kerja", "kak-persuratan-elektronik.pdf", "kak"),)

PARKIR = _request(
    name="Sistem Parkir Elektronik dan Pembayaran Non-Tunai (data demo)",
    description=(
        "Lisensi perangkat lunak pengelolaan parkir tepi jalan dengan pembayaran QRIS dan juru parkir "
        f"berperangkat genggam. {_NOTE}"
    ),
    agency=DISHUB_HEAD.unit,
    developer_unit="Bidang Lalu Lintas dan Perparkiran, Dinas Perhubungan",
    user_unit="Unit Pelaksana Teknis Perparkiran, Dinas Perhubungan",
    contact=f"{DISHUB_OPERATOR.name}, Dinas Perhubungan Kota Kediri, {_PHONE}",
    legal_basis="\n".join(
        (
            "Undang-Undang Nomor 1 Tahun 2022 tentang Hubungan Keuangan antara Pemerintah Pusat dan "
            "Pemerintahan Daerah.",
            _SPBE,
            "Peraturan Daerah Kota Kediri tentang Pajak Daerah dan Retribusi Daerah (data demo).",
        )
    ),
    problem="Retribusi parkir dipungut tunai; setoran juru parkir sulit dicocokkan dengan jumlah kendaraan.",
    need="Karcis elektronik, pembayaran QRIS, dan laporan setoran harian per titik parkir.",
    kind="licence",
    goals="Pendapatan retribusi parkir tercatat utuh dan dapat diperiksa per titik dan per hari.",
    users_internal=True,
    users_external=True,
    users_count=60_000,
    target_date="2027-07-01",
    budget_amount=850_000_000,
    budget_source="APBD",
    fiscal_year=2027,
    builder="vendor",
    vendor="PT Parkir Pintar Indonesia (data demo)",
    data_processed="Nomor polisi kendaraan, waktu dan lokasi parkir, data transaksi QRIS.",
    personal_data=True,
    specific_personal_data=False,
    dpia_done=False,
    hosting="other",
    hosting_reason="Perangkat lunak berlisensi dijalankan di server penyedia.",
    splp=False,
    sso=False,
    security_testing="Pengujian fungsi oleh penyedia sebelum serah terima.",
)
PARKIR_DOCUMENTS = (
    DemoDocument("Kerangka Acuan Kerja", "kak-parkir-elektronik.pdf", "kak"),
    DemoDocument("Rencana Anggaran Biaya", "rab-parkir-elektronik.pdf", "budget", internal=True),
)

SAMPAH = _request(
    name="Aplikasi Pelaporan Sampah dan Bank Sampah (data demo)",
    description=(
        "Warga melaporkan timbulan sampah liar dengan foto dan lokasi; bank sampah mencatat setoran nasabah; "
        f"Dinas memantau pengangkutan. {_NOTE}"
    ),
    agency=DLHKP_HEAD.unit,
    developer_unit="Bidang Aplikasi Informatika, Dinas Komunikasi dan Informatika",
    user_unit="Bidang Kebersihan, Dinas Lingkungan Hidup, Kebersihan dan Pertamanan",
    contact=f"Bidang Kebersihan DLHKP Kota Kediri, {_PHONE}",
    legal_basis="\n".join(
        (
            "Undang-Undang Nomor 18 Tahun 2008 tentang Pengelolaan Sampah.",
            "Peraturan Presiden Nomor 97 Tahun 2017 tentang Kebijakan dan Strategi Nasional Pengelolaan Sampah "
            "Rumah Tangga dan Sampah Sejenis Sampah Rumah Tangga.",
            _SPBE,
            _PDP,
        )
    ),
    problem="Laporan sampah liar datang lewat telepon dan media sosial tanpa lokasi pasti; data bank sampah tercecer.",
    need="Pelaporan dengan foto dan titik lokasi, penugasan armada, dan pencatatan setoran bank sampah.",
    kind="new",
    shared_app="SIPSN",
    shared_why_not=(
        "SIPSN (Kementerian Lingkungan Hidup) menampung data tahunan pengelolaan sampah, tidak melayani laporan "
        "warga dan transaksi bank sampah; data ringkasnya dikirim ke SIPSN."
    ),
    goals="Laporan sampah liar ditangani dalam tiga hari; setoran bank sampah tercatat per nasabah.",
    users_internal=True,
    users_external=True,
    users_count=25_000,
    target_date="2027-06-30",
    budget_amount=150_000_000,
    budget_source="APBD",
    fiscal_year=2027,
    builder="in_house",
    data_processed="Nama dan nomor telepon pelapor, foto dan lokasi laporan, data nasabah dan setoran bank sampah.",
    personal_data=True,
    specific_personal_data=False,
    dpia_done=True,
    hosting="pdn",
    splp=True,
    sso=True,
    integration_note="Ringkasan data ke SIPSN; petugas masuk dengan SSO Pemerintah Kota Kediri.",
    security_testing="Uji penetrasi oleh CSIRT Kota Kediri sebelum peluncuran; pemindaian kerentanan bulanan.",
)
SAMPAH_DOCUMENTS = (DemoDocument("Kerangka Acuan Kerja", "kak-pelaporan-sampah.pdf", "kak"),)


def _checklist(*points: tuple[str, str]) -> dict[str, dict[str, str]]:
    """A checklist (`ledger.application.CHECKLIST`) of (finding, note) in its order."""
    return {point: {"finding": finding, "note": note} for point, (finding, note) in zip(CHECKLIST, points, strict=True)}


SPMB_REVIEW = _checklist(
    ("fits", "Aplikasi yang ada dikembangkan, sesuai arsitektur SPBE Kota Kediri."),
    ("fits", ""),
    ("fits", "Pusat data Pemerintah Kota Kediri."),
    ("fits", "Melalui SPLP dan SSO."),
    ("fits", "Uji penetrasi dan uji beban sebelum pendaftaran."),
    ("fits", "DPIA terlampir; data anak hanya dapat dibuka petugas yang berwenang."),
)
RME_RETURN = (
    "Rekam medis adalah data pribadi yang bersifat spesifik (UU 27/2022 Pasal 4 ayat (2)): lampirkan "
    "penilaian dampak pelindungan data pribadi (DPIA).",
    "Rencana pengujian keamanan belum cukup: uraikan uji penetrasi sebelum go-live, pelaksananya, dan siapa "
    "yang menindaklanjuti temuan.",
)
RME_REVIEW = _checklist(
    ("fits", "Sesuai peta rencana SPBE bidang kesehatan."),
    ("concern", "Pastikan tidak tumpang tindih dengan SIMRS RSUD Gambiran: rujukan melalui integrasi."),
    ("fits", "Pusat data Pemerintah Kota Kediri."),
    ("concern", "Jadwal integrasi SATUSEHAT melalui SPLP belum ada dalam KAK."),
    ("fits", "Uji penetrasi pihak ketiga, ditinjau CSIRT Kota Kediri."),
    ("fits", "DPIA terlampir pada revisi 2."),
)
RME_NOTES = (
    "Integrasi dengan platform SATUSEHAT melalui SPLP selesai sebelum aplikasi dipakai di seluruh Puskesmas.",
    "Rujukan ke RSUD Gambiran melalui integrasi dengan SIMRS, tanpa input ulang data pasien.",
    "Kontrak dengan penyedia memuat penyerahan kode sumber, dokumentasi dan seluruh data kepada Dinas Kesehatan.",
)
SURAT_REVIEW = _checklist(
    ("does_not_fit", "Persuratan dinas dilayani Aplikasi Umum SRIKANDI."),
    (
        "does_not_fit",
        "Duplikasi dengan SRIKANDI, Aplikasi Umum bidang kearsipan dinamis (Keputusan Menteri PANRB "
        "Nomor 679 Tahun 2020).",
    ),
    ("does_not_fit", "Server penyedia di luar Pusat Data Nasional dan pusat data Pemerintah Kota Kediri."),
    ("concern", "Tanpa SPLP dan SSO."),
    ("concern", "Sertifikat penyedia tidak menggantikan uji keamanan aplikasinya."),
    ("concern", "Belum ada DPIA, padahal surat memuat data pribadi warga."),
)
SURAT_NOTES = (
    "Kebutuhan persuratan dan disposisi elektronik dilayani SRIKANDI, Aplikasi Umum bidang kearsipan dinamis "
    "(Keputusan Menteri PANRB Nomor 679 Tahun 2020) yang dipakai seluruh instansi pemerintah.",
    "Hosting di server penyedia, di luar Pusat Data Nasional dan pusat data Pemerintah Kota Kediri, tidak sesuai "
    "Perpres 95/2018.",
    "Diskominfo dan Dinas Perpustakaan dan Kearsipan mendampingi pemakaian SRIKANDI, termasuk pelatihan operator "
    "dan penomoran surat.",
)
PARKIR_RETURN = (
    "Alasan hosting di server penyedia belum cukup: jelaskan mengapa Pusat Data Nasional atau pusat data "
    "Pemerintah Kota Kediri tidak dapat dipakai (Perpres 95/2018).",
    "Nomor polisi kendaraan yang dikaitkan dengan pembayaran adalah data pribadi: lengkapi penilaian dampak "
    "pelindungan data pribadi (DPIA) sesuai UU 27/2022.",
    "Uraikan integrasi dengan sistem pajak dan retribusi daerah di Badan Pendapatan Daerah melalui SPLP, dan "
    "rencana uji keamanan sebelum serah terima.",
)


def _paragraphs(document: DemoDocument, request: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The sections of a demo document, written from the request it is attached to."""
    budget = f"Rp{request['budget_amount']:,}".replace(",", ".")
    if document.form == "kak":
        return [
            ("Latar Belakang", request["problem"]),
            ("Dasar Hukum", request["legal_basis"]),
            ("Maksud dan Tujuan", request["goals"]),
            ("Ruang Lingkup", request["need"]),
            ("Pengguna", request["user_unit"] or request["agency"]),
            ("Anggaran", f"{budget}, sumber {request['budget_source']} tahun anggaran {request['fiscal_year']}."),
            ("Jadwal", f"Selesai paling lambat {request['target_date']}."),
        ]
    if document.form == "needs":
        return [
            ("Permasalahan", request["problem"]),
            ("Kebutuhan", request["need"]),
            ("Data yang Diolah", request["data_processed"]),
            ("Integrasi", request["integration_note"] or "-"),
        ]
    if document.form == "budget":
        shares = (("Lisensi atau jasa pengembangan", 70), ("Pelatihan", 10), ("Uji keamanan", 8), ("Pendampingan", 12))
        lines = [f"{item}: Rp{request['budget_amount'] * share // 100:,}".replace(",", ".") for item, share in shares]
        return [("Rincian (dokumen internal)", "\n".join(lines)), ("Jumlah", budget)]
    return [
        ("Data Pribadi yang Diolah", request["data_processed"]),
        ("Risiko", "Kebocoran data pasien, akses tanpa hak oleh petugas, dan kehilangan data."),
        ("Mitigasi", request["security_testing"]),
    ]


def demo_pdf(document: DemoDocument, request: Mapping[str, Any]) -> bytes:
    """A small real PDF (A4, the built-in Helvetica), the same bytes at every build, each
    page headed as demo data."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    pdf.setTitle(f"{document.title}: {request['name']}")
    pdf.setAuthor(f"{request['agency']} Kota Kediri (data demo)")
    width, height = A4
    left, right, bottom = 25 * mm, width - 25 * mm, 25 * mm
    y = height

    def line(text: str, font: str = "Helvetica", size: float = 10.5) -> None:
        nonlocal y
        for part in simpleSplit(text, font, size, right - left) or [""]:
            if y < bottom:
                pdf.showPage()
                y = height
            if y == height:
                pdf.setFont("Helvetica-Bold", 9)
                pdf.drawString(left, height - 15 * mm, "DATA DEMO - bukan dokumen resmi Pemerintah Kota Kediri")
                y = height - 28 * mm
            pdf.setFont(font, size)
            pdf.drawString(left, y, part)
            y -= size * 1.45

    line(document.title.upper(), "Helvetica-Bold", 14)
    line(request["name"], "Helvetica-Bold", 11)
    line(f"{request['agency']} Kota Kediri")
    y -= 8
    for heading, text in _paragraphs(document, request):
        line(heading, "Helvetica-Bold", 11)
        for paragraph in text.split("\n"):
            line(paragraph)
        y -= 6
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _attach(
    ledger: Ledger, request: Mapping[str, Any], documents: Sequence[DemoDocument], now: datetime
) -> dict[str, Any]:
    """`request` with `documents` made, kept in the register and listed as its attachments."""
    listed = []
    for document in documents:
        data = demo_pdf(document, request)
        digest = hashlib.sha256(data).hexdigest()
        ledger.register.put_attachment(digest, document.file, data, now)
        listed.append(AttachmentIn(document.title, document.file, digest, len(data), document.internal).to_json())
    return {**request, "attachments": listed}


def _submit(
    ctx: Context,
    head: DemoPerson,
    request: Mapping[str, Any],
    documents: Sequence[DemoDocument],
    moment: datetime,
    operator: DemoPerson | None = None,
    app: str | None = None,
) -> str:
    """The Kepala PD signs `request` (prepared by `operator`, if any); returns its id."""
    prepared = {**request, "prepared_by": operator.nip if operator else ""}
    full = _attach(ctx.ledger, prepared, documents, moment - timedelta(hours=1))
    appended = apps.submit_app(ctx, None, full, head.nip, head.passphrase, moment, app=app)
    return str(appended.entry.fields["app"])


def _decide(ctx: Context, app: str, decision: str, notes: Sequence[str], moment: datetime) -> None:
    apps.decide_app(ctx, app, decision, notes, KOMINFO_HEAD.nip, KOMINFO_HEAD.passphrase, moment)


def _verification(runtime: Runtime, hashes: _Hashes, progress: Callable[[str], None]) -> None:
    """The year 2026 of the verification of applications: the staff enrol, an admin gives the
    roles, and five requests go through every state (docs/APPLICATIONS.md)."""
    ctx = runtime.context()
    moment = VERIFICATION
    for person in STAFF:
        _enrol(runtime, person, moment, hashes)
        moment += timedelta(minutes=20)
    progress("reviewers and operators enrolled")
    moment = VERIFICATION + timedelta(days=1)
    for given in DEMO_ROLES:
        admin = SECOND_ADMIN if given.role in (PD_HEAD, PD_OPERATOR) else ADMIN
        apps.assign_role(
            ctx, given.person.nip, given.role, given.unit, True, given.reason, admin.nip, admin.passphrase, moment
        )
        moment += timedelta(minutes=5)
    progress("roles given")

    spmb = _submit(ctx, DISDIK_HEAD, SPMB, SPMB_DOCUMENTS, _wib(2, 9, 9, 15))
    apps.review_app(ctx, spmb, REVIEWER.nip, SPMB_REVIEW, _wib(2, 11, 14))
    _decide(ctx, spmb, "recommended", (), _wib(2, 13, 10))

    rme = _submit(ctx, DINKES_HEAD, RME, RME_DOCUMENTS, _wib(3, 2, 9), DINKES_OPERATOR)
    apps.return_app(ctx, rme, SECOND_REVIEWER.nip, RME_RETURN, _wib(3, 5, 15, 30))
    _submit(ctx, DINKES_HEAD, RME_REVISED, (*RME_DOCUMENTS, RME_DPIA), _wib(3, 19, 10), DINKES_OPERATOR, rme)
    apps.review_app(ctx, rme, SECOND_REVIEWER.nip, RME_REVIEW, _wib(3, 24, 13))
    _decide(ctx, rme, "recommended_with_notes", RME_NOTES, _wib(3, 27, 9, 30))

    surat = _submit(ctx, KOPERASI_HEAD, SURAT, SURAT_DOCUMENTS, _wib(4, 13, 8, 45))
    apps.review_app(ctx, surat, REVIEWER.nip, SURAT_REVIEW, _wib(4, 15, 11))
    _decide(ctx, surat, "not_recommended", SURAT_NOTES, _wib(4, 17, 14))

    parkir = _submit(ctx, DISHUB_HEAD, PARKIR, PARKIR_DOCUMENTS, _wib(9, 7, 10), DISHUB_OPERATOR)
    apps.return_app(ctx, parkir, SECOND_REVIEWER.nip, PARKIR_RETURN, _wib(9, 10, 16))

    _submit(ctx, DLHKP_HEAD, SAMPAH, SAMPAH_DOCUMENTS, _wib(11, 23, 9, 30))
    progress("applications submitted, reviewed and decided")
