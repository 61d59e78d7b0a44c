"""The default disclosure, written for securechat in English and Bahasa Indonesia.

Each language is its own text, not a translation of the other: the Indonesian reads the way an
Indonesian counselor would write to a client (formal "Anda", the counselor as "saya"). Both
cover every point the product promises: who the counselor is; the scope of the service; the
limits of text; hours, response time and time zone; the emergency procedure and numbers; the
limits of confidentiality; where data lives and for how long; the client's own part; and how
to withdraw consent.

The app's own button names appear in the text and must match the UI's translations:
"Get help now" / "Bantuan sekarang", "Quick exit" / "Keluar cepat",
"Withdraw consent" / "Tarik persetujuan".
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["EN_TEMPLATE", "ID_TEMPLATE", "ProfileFields", "render_default_texts"]


class ProfileFields(Protocol):
    """What the default text needs from a counselor profile."""

    @property
    def name(self) -> str: ...
    @property
    def credentials(self) -> str: ...
    @property
    def specializations(self) -> tuple[str, ...]: ...
    @property
    def languages(self) -> tuple[str, ...]: ...
    @property
    def service_hours(self) -> str: ...
    @property
    def time_zone(self) -> str: ...
    @property
    def response_time_hours(self) -> int: ...
    @property
    def records_retention_years(self) -> int: ...


EN_TEMPLATE = """\
About this counseling service

Who I am
I am {name}. {about_en}Sessions can be held in: {languages}.

What this service is for
This is counseling by text for concerns that are not an emergency: stress, worry, low mood, \
grief, relationships, family, studies or work. Together we can make sense of what you are going \
through, look for ways to cope, and set goals that matter to you.
I do not make diagnoses, prescribe medicine or provide emergency care here. If I think another \
kind of help would serve you better, such as a psychiatrist, a doctor or face-to-face support, \
I will tell you so and help you find it.

What writing can and cannot do
When we only write to each other, I cannot see your face or hear your voice, and it is easy to \
misread one another. I will ask what you meant before I draw any conclusion, and you are \
welcome to do the same with me. If something I write feels wrong or hurtful, please tell me.

When I am available
My service hours are {service_hours}, time zone {time_zone}. I usually reply within {response_en}. \
Messages that arrive outside these hours wait until I am back. Nobody watches this app around \
the clock.

If you are in danger
If you are thinking about ending your life, if you have been hurt, or if anyone is in immediate \
danger, do not wait for my reply:
- In Indonesia, call 112 for emergency services.
- For mental-health support in Indonesia, call the Ministry of Health line on 119 and choose \
extension 8.
- Or go to the emergency department of the nearest hospital.
- Outside Indonesia, call your local emergency number.
The "Get help now" button in the app shows these numbers at any time.

What stays between us, and when it cannot
What you tell me is confidential. I will share it with others only:
- when there is a serious risk that you will harm yourself or someone else, to keep people safe;
- when a child or another vulnerable person is being harmed;
- when the law or a court requires me to.
Whenever I can, I will talk it through with you first. I may discuss my work with a clinical \
supervisor, without your name or anything else that could identify you.

Where your information is kept, and for how long
Our messages are end-to-end encrypted: only your device and mine can read them. The relay \
server that passes them along sees only scrambled data and deletes each message once it has \
been delivered, or when it expires. Our chat history is stored encrypted on your device and on \
mine; you can set your app to delete it after a number of days. My session notes stay \
encrypted on my own computer and are never sent over the internet. I keep them for \
{retention_en} after our last session, as my professional obligations require, and then \
delete them.

Your part
- Write from a private place where nobody can read over your shoulder.
- Please do not take screenshots of our conversation or forward it to anyone. I will not share \
it either, except in the situations described above.
- Lock your device with a PIN or password and keep your securechat passphrase to yourself. Use \
"Quick exit" if someone comes near.

Stopping
Taking part is your choice. You can withdraw your consent at any time with "Withdraw consent" in \
the conversation menu: the conversation stops and I am told. What we have already written stays \
in our encrypted histories until it is deleted, and my notes are kept for the period above.

If this text changes, the app will show you the new version and ask for your consent again.
"""

ID_TEMPLATE = """\
Tentang layanan konseling ini

Siapa saya
Nama saya {name}. {about_id}Bahasa yang dapat dipakai dalam sesi: {languages}.

Untuk apa layanan ini
Layanan ini adalah konseling lewat tulisan untuk persoalan yang tidak bersifat darurat, \
misalnya stres, rasa cemas, suasana hati yang sedang turun, duka, masalah hubungan, keluarga, \
kuliah, atau pekerjaan. Bersama-sama kita bisa memahami apa yang sedang Anda alami, mencari \
cara menghadapinya, dan menentukan tujuan yang berarti bagi Anda.
Di sini saya tidak menegakkan diagnosis, tidak memberikan resep obat, dan tidak menangani \
keadaan darurat. Kalau menurut saya Anda akan lebih terbantu oleh layanan lain, misalnya \
psikiater, dokter, atau pendampingan tatap muka, saya akan menyampaikannya dan membantu Anda \
menemukannya.

Keterbatasan percakapan lewat teks
Karena kita hanya bertukar tulisan, saya tidak dapat melihat raut wajah atau mendengar nada \
suara Anda, sehingga kita mudah salah menangkap maksud satu sama lain. Saya akan bertanya \
lebih dulu sebelum menyimpulkan apa pun, dan Anda pun boleh melakukan hal yang sama kepada \
saya. Jika ada tulisan saya yang terasa keliru atau menyakitkan, sampaikan saja.

Kapan saya dapat dihubungi
Jam layanan saya: {service_hours}, zona waktu {time_zone}. Biasanya saya membalas dalam {response_id}. \
Pesan yang masuk di luar jam layanan akan saya baca setelah saya kembali bertugas. Aplikasi ini \
tidak saya pantau 24 jam sehari.

Dalam keadaan darurat
Jika Anda terpikir untuk mengakhiri hidup, baru saja disakiti, atau ada orang yang \
keselamatannya terancam saat ini, jangan menunggu balasan dari saya:
- Di Indonesia, hubungi 112 untuk layanan darurat.
- Untuk dukungan kesehatan jiwa, hubungi layanan Kementerian Kesehatan di nomor 119, lalu \
pilih ekstensi 8.
- Atau datanglah ke IGD rumah sakit terdekat.
- Jika Anda sedang berada di luar Indonesia, hubungi nomor darurat setempat.
Tombol "Bantuan sekarang" di aplikasi selalu menampilkan nomor-nomor ini.

Kerahasiaan dan batasnya
Apa pun yang Anda ceritakan kepada saya bersifat rahasia. Saya hanya akan membukanya kepada \
pihak lain:
- bila ada risiko serius Anda akan menyakiti diri sendiri atau orang lain, demi keselamatan;
- bila ada anak atau orang rentan lain yang sedang disakiti;
- bila hukum atau pengadilan mewajibkan saya.
Sebisa mungkin, hal itu akan saya bicarakan dulu dengan Anda. Saya dapat mendiskusikan \
pekerjaan saya dengan supervisor klinis tanpa menyebut nama Anda atau hal lain yang bisa \
mengenali Anda.

Di mana data Anda disimpan, dan berapa lama
Pesan kita dienkripsi secara end-to-end: hanya perangkat Anda dan perangkat saya yang bisa \
membacanya. Server relay yang meneruskan pesan hanya melihat data acak, dan menghapus setiap \
pesan begitu pesan itu sampai, atau ketika masa simpannya habis. Riwayat percakapan tersimpan \
terenkripsi di perangkat Anda dan di perangkat saya; Anda bisa mengatur aplikasi agar \
menghapusnya setelah sekian hari. Catatan sesi saya tersimpan terenkripsi di komputer saya \
sendiri dan tidak pernah dikirim lewat internet. Catatan itu saya simpan selama \
{retention_id} setelah sesi terakhir kita, sesuai kewajiban profesi saya, lalu saya hapus.

Peran Anda
- Tulislah dari tempat yang pribadi, supaya tidak ada orang lain yang ikut membaca.
- Mohon jangan mengambil tangkapan layar atau meneruskan isi percakapan kita kepada siapa pun. \
Saya pun tidak akan membagikannya, kecuali dalam keadaan yang dijelaskan di atas.
- Kunci perangkat Anda dengan PIN atau kata sandi, dan simpan frasa sandi securechat untuk \
Anda sendiri. Tekan "Keluar cepat" bila ada orang yang mendekat.

Berhenti dari layanan
Anda bebas memilih untuk ikut atau berhenti. Persetujuan Anda dapat ditarik kapan saja lewat \
"Tarik persetujuan" di menu percakapan: percakapan akan berhenti dan saya akan diberi tahu. \
Percakapan yang sudah terjadi tetap tersimpan terenkripsi di riwayat kita masing-masing sampai \
dihapus, dan catatan saya tetap disimpan selama jangka waktu di atas.

Bila isi pernyataan ini berubah, aplikasi akan menampilkan versi terbarunya dan meminta \
persetujuan Anda kembali.
"""


def _duration_en(hours: int) -> str:
    if hours % 24 == 0:
        days = hours // 24
        return "1 day" if days == 1 else f"{days} days"
    return "1 hour" if hours == 1 else f"{hours} hours"


def _duration_id(hours: int) -> str:
    return f"{hours // 24} hari" if hours % 24 == 0 else f"{hours} jam"


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    return text if text.endswith((".", "!", "?")) else text + "."


def _join(*parts: str) -> str:
    text = " ".join(p for p in parts if p)
    return f"{text} " if text else ""


def render_default_texts(profile: ProfileFields) -> dict[str, str]:
    """The default disclosure for `profile`, keyed by language code ("en", "id")."""
    specs = ", ".join(s.strip() for s in profile.specializations if s.strip())
    creds = _sentence(profile.credentials)
    years = profile.records_retention_years
    values = {
        "name": profile.name.strip(),
        "about_en": _join(creds, f"My main areas of work: {specs}." if specs else ""),
        "about_id": _join(
            creds, f"Bidang yang paling sering saya tangani: {specs}." if specs else ""
        ),
        "languages": ", ".join(lang.strip() for lang in profile.languages if lang.strip()) or "-",
        "service_hours": profile.service_hours.strip(),
        "time_zone": profile.time_zone.strip(),
        "response_en": _duration_en(profile.response_time_hours),
        "response_id": _duration_id(profile.response_time_hours),
        "retention_en": "1 year" if years == 1 else f"{years} years",
        "retention_id": f"{years} tahun",
    }
    return {"en": EN_TEMPLATE.format(**values), "id": ID_TEMPLATE.format(**values)}
