"""Starting points for a counselor's disclosure, one per language, written for this product.

Job: give counselors a skeleton that covers what the practice requires (who, scope, limits of
text, hours and replies, emergencies, confidentiality and its limits, data, the client's part),
in the language the disclosure is written in (not the app's language). Counselors edit it.
"""

from __future__ import annotations

__all__ = ["DISCLOSURE_TEMPLATES"]

DISCLOSURE_TEMPLATES: dict[str, str] = {
    "en": """About me
[Your name, your qualifications and licence, and your experience.]

What I can help with
Text counseling for everyday concerns such as [stress, study, work, family, relationships].
I do not diagnose, and this is not an emergency or crisis service.

Talking in writing
I cannot see your face or hear your voice, so I may ask what you mean before I draw
conclusions. Please do the same with me.

When I answer
[Days and hours], [time zone]. I usually reply within [time].

In an emergency
If you are in danger or might hurt yourself, call 112 now, or 119 ext. 8 to talk to someone.
Do not wait for my reply. "Get help now" in the app shows these numbers at any time.

Confidentiality and its limits
What we write is end-to-end encrypted: only you and I can read it. I keep it confidential,
except where the law or a serious risk to your life or someone else's requires me to act.
[Describe those cases and what you would do.]

Your data
Messages stay on your device and mine. My session notes stay encrypted on my computer and are
never sent. I keep records for [period], as my professional code requires.

Your part
Write from a private place, keep your device locked, and please do not forward or take
screenshots of our conversation. You can withdraw your consent at any time.
""",
    "id": """Tentang saya
[Nama Anda, kualifikasi dan izin praktik, serta pengalaman Anda.]

Yang dapat saya bantu
Konseling lewat teks untuk persoalan sehari-hari seperti [stres, kuliah, pekerjaan, keluarga,
hubungan]. Saya tidak memberikan diagnosis, dan ini bukan layanan darurat atau krisis.

Berbicara lewat tulisan
Saya tidak dapat melihat wajah atau mendengar suara Anda, jadi saya mungkin akan bertanya
maksud Anda sebelum menyimpulkan. Silakan lakukan hal yang sama kepada saya.

Kapan saya membalas
[Hari dan jam], [zona waktu]. Biasanya saya membalas dalam [waktu].

Dalam keadaan darurat
Jika Anda dalam bahaya atau mungkin menyakiti diri sendiri, segera hubungi 112, atau 119
ext. 8 untuk berbicara dengan petugas. Jangan menunggu balasan saya. Tombol "Cari bantuan
sekarang" di aplikasi selalu menampilkan nomor-nomor ini.

Kerahasiaan dan batasnya
Percakapan kita terenkripsi ujung ke ujung: hanya Anda dan saya yang dapat membacanya. Saya
menjaga kerahasiaannya, kecuali bila hukum atau risiko serius terhadap nyawa Anda atau orang
lain mengharuskan saya bertindak. [Jelaskan keadaan tersebut dan apa yang akan Anda lakukan.]

Data Anda
Pesan tersimpan di perangkat Anda dan perangkat saya. Catatan sesi saya tersimpan terenkripsi
di komputer saya dan tidak pernah dikirim. Saya menyimpan catatan selama [jangka waktu],
sesuai kode etik profesi saya.

Peran Anda
Tulislah dari tempat yang privat, kunci perangkat Anda, dan mohon jangan meneruskan atau
menangkap layar percakapan kita. Anda dapat menarik persetujuan kapan saja.
""",
}
