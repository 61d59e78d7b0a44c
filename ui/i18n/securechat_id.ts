<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="id_ID">
<context>
    <name>ChatPanel</name>
    <message>
        <source>Withdraw consent?</source>
        <translation>Tarik persetujuan?</translation>
    </message>
    <message>
        <source>Your counselor will be told, and this conversation will stop. You can still read it here. Withdraw consent?</source>
        <translation>Konselor Anda akan diberi tahu, dan percakapan ini akan berhenti. Anda tetap dapat membacanya di sini. Tarik persetujuan?</translation>
    </message>
    <message>
        <source>✓ Verified</source>
        <translation>✓ Terverifikasi</translation>
    </message>
    <message>
        <source>Not verified yet</source>
        <translation>Belum diverifikasi</translation>
    </message>
    <message>
        <source>Safety number</source>
        <translation>Nomor keamanan</translation>
    </message>
    <message>
        <source>Session summary</source>
        <translation>Ringkasan sesi</translation>
    </message>
    <message>
        <source>Send crisis numbers</source>
        <translation>Kirim nomor darurat</translation>
    </message>
    <message>
        <source>Withdraw consent</source>
        <translation>Tarik persetujuan</translation>
    </message>
    <message>
        <source>Keep the conversation</source>
        <translation>Tetap lanjutkan percakapan</translation>
    </message>
    <message>
        <source>Consent on record: disclosure version %1, %2</source>
        <translation>Persetujuan tercatat: pernyataan layanan versi %1, %2</translation>
    </message>
    <message>
        <source>No consent on record</source>
        <translation>Belum ada persetujuan tercatat</translation>
    </message>
    <message>
        <source>The other person&apos;s safety number has changed. This can happen when they reinstall the app. Check it with them, then confirm to keep writing.</source>
        <translation>Nomor keamanan lawan bicara Anda berubah. Ini bisa terjadi bila aplikasinya dipasang ulang. Cocokkan dulu dengannya, lalu konfirmasi untuk melanjutkan percakapan.</translation>
    </message>
    <message>
        <source>Check safety number</source>
        <translation>Periksa nomor keamanan</translation>
    </message>
    <message>
        <source>Compare safety numbers</source>
        <translation>Bandingkan nomor keamanan</translation>
    </message>
    <message>
        <source>I have checked it</source>
        <translation>Sudah saya periksa</translation>
    </message>
    <message>
        <source>Consent was withdrawn. This conversation is closed; you can still read it.</source>
        <translation>Persetujuan telah ditarik. Percakapan ini sudah ditutup, tetapi Anda tetap dapat membacanya.</translation>
    </message>
    <message>
        <source>The counselor updated their disclosure. Sending is paused until you have read and accepted the new version.</source>
        <translation>Konselor memperbarui pernyataan layanannya. Pengiriman pesan dijeda sampai Anda membaca dan menyetujui versi yang baru.</translation>
    </message>
    <message>
        <source>Write a message…</source>
        <translation>Tulis pesan…</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>Pesan</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>Kirim</translation>
    </message>
    <message>
        <source>Send message</source>
        <translation>Kirim pesan</translation>
    </message>
    <message>
        <source>Messages</source>
        <translation>Pesan-pesan</translation>
    </message>
    <message>
        <source>Enter sends · Shift+Enter starts a new line</source>
        <translation>Enter untuk mengirim · Shift+Enter untuk baris baru</translation>
    </message>
</context>
<context>
    <name>ConsentPage</name>
    <message>
        <source>%1 h</source>
        <translation>%1 jam</translation>
    </message>
    <message>
        <source>Before you start: how this counselor works</source>
        <translation>Sebelum mulai: cara konselor ini bekerja</translation>
    </message>
    <message>
        <source>Counselor</source>
        <translation>Konselor</translation>
    </message>
    <message>
        <source>Qualifications</source>
        <translation>Kualifikasi</translation>
    </message>
    <message>
        <source>Topics</source>
        <translation>Topik</translation>
    </message>
    <message>
        <source>Languages</source>
        <translation>Bahasa</translation>
    </message>
    <message>
        <source>Hours</source>
        <translation>Jam layanan</translation>
    </message>
    <message>
        <source>Replies</source>
        <translation>Waktu balasan</translation>
    </message>
    <message>
        <source>Disclosure version %1, %2</source>
        <translation>Pernyataan layanan versi %1, %2</translation>
    </message>
    <message>
        <source>&amp;Read it in</source>
        <translation>&amp;Baca dalam</translation>
    </message>
    <message>
        <source>Disclosure</source>
        <translation>Pernyataan layanan</translation>
    </message>
    <message>
        <source>I have read and understood this disclosure</source>
        <translation>Saya sudah membaca dan memahami pernyataan layanan ini</translation>
    </message>
    <message>
        <source>I agree</source>
        <translation>Saya setuju</translation>
    </message>
    <message>
        <source>✓ Agreed</source>
        <translation>✓ Disetujui</translation>
    </message>
    <message>
        <source>I agree to this disclosure</source>
        <translation>Saya menyetujui pernyataan layanan ini</translation>
    </message>
    <message>
        <source>Not now</source>
        <translation>Nanti saja</translation>
    </message>
    <message>
        <source>Thank you. Write your first message: your consent is signed and sent together with it.</source>
        <translation>Terima kasih. Silakan tulis pesan pertama Anda: persetujuan Anda ditandatangani dan dikirim bersama pesan itu.</translation>
    </message>
    <message>
        <source>You can write your first message after you have agreed. Nothing has been sent.</source>
        <translation>Anda dapat menulis pesan pertama setelah menyetujui. Belum ada yang terkirim.</translation>
    </message>
    <message>
        <source>Write a message…</source>
        <translation>Tulis pesan…</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>Pesan</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>Kirim</translation>
    </message>
    <message>
        <source>Send message</source>
        <translation>Kirim pesan</translation>
    </message>
</context>
<context>
    <name>ConversationListModel</name>
    <message>
        <source>⚠ same name</source>
        <translation>⚠ nama sama</translation>
    </message>
    <message numerus="yes">
        <source>%n new</source>
        <translation>
            <numerusform>%n baru</numerusform>
        </translation>
    </message>
    <message>
        <source>closed</source>
        <translation>ditutup</translation>
    </message>
</context>
<context>
    <name>CounselorProfileDialog</name>
    <message>
        <source>My profile</source>
        <translation>Profil saya</translation>
    </message>
    <message>
        <source>Clients read this beside your disclosure before they agree to start. Name, topics and languages also appear in the counselor directory.</source>
        <translation>Klien membaca ini bersama pernyataan layanan Anda sebelum setuju untuk mulai. Nama, topik, dan bahasa juga tampil di direktori konselor.</translation>
    </message>
    <message>
        <source>e.g. M.Psi., licensed psychologist</source>
        <translation>mis. M.Psi., psikolog berizin</translation>
    </message>
    <message>
        <source>e.g. stress, grief, family, studies</source>
        <translation>mis. stres, duka, keluarga, kuliah</translation>
    </message>
    <message>
        <source> h</source>
        <translation> jam</translation>
    </message>
    <message>
        <source> years</source>
        <translation> tahun</translation>
    </message>
    <message>
        <source>Name shown to clients</source>
        <translation>Nama yang dilihat klien</translation>
    </message>
    <message>
        <source>Qualifications</source>
        <translation>Kualifikasi</translation>
    </message>
    <message>
        <source>Topics (separate with commas)</source>
        <translation>Topik (pisahkan dengan koma)</translation>
    </message>
    <message>
        <source>Languages (separate with commas)</source>
        <translation>Bahasa (pisahkan dengan koma)</translation>
    </message>
    <message>
        <source>Service hours</source>
        <translation>Jam layanan</translation>
    </message>
    <message>
        <source>Time zone</source>
        <translation>Zona waktu</translation>
    </message>
    <message>
        <source>Usual time to reply</source>
        <translation>Waktu balasan biasanya</translation>
    </message>
    <message>
        <source>Records kept for</source>
        <translation>Catatan disimpan selama</translation>
    </message>
    <message>
        <source>Also rewrite my disclosure from this profile</source>
        <translation>Tulis ulang juga pernyataan layanan saya dari profil ini</translation>
    </message>
    <message>
        <source>This replaces your own wording, and clients are asked to agree again.</source>
        <translation>Ini menggantikan kata-kata Anda sendiri, dan klien diminta menyetujui lagi.</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Simpan</translation>
    </message>
    <message>
        <source>Saved. Clients who open your invite now see this profile.</source>
        <translation>Tersimpan. Klien yang membuka undangan Anda sekarang melihat profil ini.</translation>
    </message>
</context>
<context>
    <name>CrisisPanel</name>
    <message>
        <source>Get help now</source>
        <translation>Cari bantuan sekarang</translation>
    </message>
    <message>
        <source>Quick exit</source>
        <translation>Keluar cepat</translation>
    </message>
    <message>
        <source>You are not alone. Help is available now.</source>
        <translation>Anda tidak sendirian. Bantuan tersedia sekarang.</translation>
    </message>
    <message>
        <source>What you can do right now</source>
        <translation>Yang dapat Anda lakukan sekarang</translation>
    </message>
</context>
<context>
    <name>DisclosureEditor</name>
    <message>
        <source>My disclosure</source>
        <translation>Pernyataan layanan saya</translation>
    </message>
    <message>
        <source>Clients read this before they agree to start. Once it is published, every saved change is a new version, and clients are asked to agree again.</source>
        <translation>Klien membaca ini sebelum setuju untuk memulai. Setelah diterbitkan, setiap perubahan yang disimpan menjadi versi baru dan klien akan diminta menyetujuinya lagi.</translation>
    </message>
    <message>
        <source>Start from the template</source>
        <translation>Mulai dari templat</translation>
    </message>
    <message>
        <source>Disclosure</source>
        <translation>Pernyataan layanan</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Simpan</translation>
    </message>
    <message>
        <source>Version %1 · draft, not published yet</source>
        <translation>Versi %1 · draf, belum diterbitkan</translation>
    </message>
    <message>
        <source>Version %1</source>
        <translation>Versi %1</translation>
    </message>
    <message>
        <source>Not published yet</source>
        <translation>Belum diterbitkan</translation>
    </message>
</context>
<context>
    <name>HelpBar</name>
    <message>
        <source>Language</source>
        <translation>Bahasa</translation>
    </message>
    <message>
        <source>SecureChat</source>
        <translation>SecureChat</translation>
    </message>
    <message>
        <source>Get help now</source>
        <translation>Cari bantuan sekarang</translation>
    </message>
    <message>
        <source>Emergency numbers and what to do right now (F1)</source>
        <translation>Nomor darurat dan langkah yang dapat dilakukan sekarang (F1)</translation>
    </message>
    <message>
        <source>Quick exit</source>
        <translation>Keluar cepat</translation>
    </message>
    <message>
        <source>Hide everything and lock at once (Ctrl+Shift+Q, or Esc twice)</source>
        <translation>Sembunyikan semuanya dan kunci seketika (Ctrl+Shift+Q, atau Esc dua kali)</translation>
    </message>
</context>
<context>
    <name>InvitePage</name>
    <message>
        <source>Choose &quot;Show counselors&quot; to see who has listed themselves on this relay.</source>
        <translation>Pilih &quot;Tampilkan konselor&quot; untuk melihat siapa saja yang sudah mendaftarkan diri di relay ini.</translation>
    </message>
    <message>
        <source>Looking for counselors on this relay…</source>
        <translation>Mencari konselor di relay ini…</translation>
    </message>
    <message>
        <source>No counselors have listed themselves on this relay yet. That is common: many counselors share their invite link only directly. If your school, campus or organisation offers counseling, ask them for an invite link and paste it above.</source>
        <translation>Belum ada konselor yang mendaftarkan diri di relay ini. Itu hal yang biasa: banyak konselor hanya membagikan tautan undangannya secara langsung. Jika sekolah, kampus, atau lembaga Anda menyediakan layanan konseling, mintalah tautan undangan kepada mereka, lalu tempelkan di atas.</translation>
    </message>
    <message>
        <source>No counselor listed here matches these filters. Try &quot;Any topic&quot; or &quot;Any language&quot; to see everyone listed, or paste an invite link above if you have one.</source>
        <translation>Tidak ada konselor di sini yang cocok dengan filter ini. Coba pilih &quot;Semua topik&quot; atau &quot;Semua bahasa&quot; untuk melihat semua yang terdaftar, atau tempelkan tautan undangan di atas jika Anda punya.</translation>
    </message>
    <message>
        <source>The list of counselors could not be loaded: the server cannot be reached right now. Please check your connection and choose &quot;Show counselors&quot; to try again.</source>
        <translation>Daftar konselor tidak dapat dimuat: server sedang tidak dapat dihubungi. Periksa koneksi Anda, lalu pilih &quot;Tampilkan konselor&quot; untuk mencoba lagi.</translation>
    </message>
    <message>
        <source>To see the list of counselors, enter your organisation&apos;s relay address in Settings first (it starts with wss://), then choose &quot;Show counselors&quot;.</source>
        <translation>Untuk melihat daftar konselor, masukkan dulu alamat relay organisasi Anda di Pengaturan (diawali dengan wss://), lalu pilih &quot;Tampilkan konselor&quot;.</translation>
    </message>
    <message>
        <source>The list of counselors could not be loaded.</source>
        <translation>Daftar konselor tidak dapat dimuat.</translation>
    </message>
    <message>
        <source>Find a counselor</source>
        <translation>Cari konselor</translation>
    </message>
    <message>
        <source>Opening an invite sends nothing. You will first read how the counselor works, and only you decide whether to start.</source>
        <translation>Membuka undangan tidak mengirim apa pun. Anda akan membaca dulu cara konselor bekerja, dan hanya Anda yang memutuskan apakah ingin mulai.</translation>
    </message>
    <message>
        <source>I have an invite link</source>
        <translation>Saya punya tautan undangan</translation>
    </message>
    <message>
        <source>Paste the securechat: link here</source>
        <translation>Tempel tautan securechat: di sini</translation>
    </message>
    <message>
        <source>Invite link</source>
        <translation>Tautan undangan</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>Buka</translation>
    </message>
    <message>
        <source>Or choose from the directory</source>
        <translation>Atau pilih dari direktori</translation>
    </message>
    <message>
        <source>Show counselors</source>
        <translation>Tampilkan konselor</translation>
    </message>
    <message>
        <source>Read this counselor&apos;s disclosure</source>
        <translation>Baca pernyataan layanan konselor ini</translation>
    </message>
    <message>
        <source>Counselors</source>
        <translation>Konselor</translation>
    </message>
    <message>
        <source>Any topic</source>
        <translation>Semua topik</translation>
    </message>
    <message>
        <source>Any language</source>
        <translation>Semua bahasa</translation>
    </message>
    <message>
        <source>Filter by topic</source>
        <translation>Saring menurut topik</translation>
    </message>
    <message>
        <source>Filter by language</source>
        <translation>Saring menurut bahasa</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Connected</source>
        <translation>Tersambung</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Menyambungkan…</translation>
    </message>
    <message>
        <source>Offline: messages will be sent later</source>
        <translation>Luring: pesan akan dikirim nanti</translation>
    </message>
    <message>
        <source>Enter your organisation&apos;s relay address in Settings first (it starts with wss://).</source>
        <translation>Masukkan dulu alamat relay organisasi Anda di Pengaturan (diawali dengan wss://).</translation>
    </message>
    <message>
        <source>Your invite link</source>
        <translation>Tautan undangan Anda</translation>
    </message>
    <message>
        <source>Give this link (or the code) to a client. It lets them read your disclosure; nothing is shared until they agree.</source>
        <translation>Berikan tautan ini (atau kodenya) kepada klien. Dengan tautan ini mereka dapat membaca pernyataan layanan Anda; tidak ada yang dibagikan sebelum mereka setuju.</translation>
    </message>
    <message>
        <source>Copy link</source>
        <translation>Salin tautan</translation>
    </message>
    <message>
        <source>SecureChat</source>
        <translation>SecureChat</translation>
    </message>
    <message>
        <source>Conversations</source>
        <translation>Percakapan</translation>
    </message>
    <message>
        <source>Find a counselor</source>
        <translation>Cari konselor</translation>
    </message>
    <message>
        <source>Share my invite link</source>
        <translation>Bagikan undangan saya</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Pengaturan</translation>
    </message>
    <message>
        <source>My disclosure</source>
        <translation>Pernyataan layanan saya</translation>
    </message>
    <message>
        <source>My profile</source>
        <translation>Profil saya</translation>
    </message>
    <message>
        <source>No conversations yet. Use &quot;Find a counselor&quot; to start one.</source>
        <translation>Belum ada percakapan. Pilih &quot;Cari konselor&quot; untuk memulai.</translation>
    </message>
    <message>
        <source>No conversations yet. Share your invite link with a client.</source>
        <translation>Belum ada percakapan. Bagikan tautan undangan Anda kepada klien.</translation>
    </message>
    <message>
        <source>Lock</source>
        <translation>Kunci</translation>
    </message>
    <message>
        <source>Choose a conversation</source>
        <translation>Pilih percakapan</translation>
    </message>
    <message>
        <source>Everything here is end-to-end encrypted.</source>
        <translation>Semua yang ada di sini terenkripsi ujung ke ujung.</translation>
    </message>
</context>
<context>
    <name>MessageDelegate</name>
    <message>
        <source>Session summary</source>
        <translation>Ringkasan sesi</translation>
    </message>
    <message>
        <source>Key points</source>
        <translation>Poin penting</translation>
    </message>
    <message>
        <source>Tasks to practise</source>
        <translation>Tugas untuk dilatih</translation>
    </message>
    <message>
        <source>Double-click or press Enter to tick tasks off.</source>
        <translation>Klik dua kali atau tekan Enter untuk mencentang tugas.</translation>
    </message>
    <message>
        <source>Help right now</source>
        <translation>Bantuan saat ini juga</translation>
    </message>
</context>
<context>
    <name>MessageListModel</name>
    <message>
        <source>You</source>
        <translation>Anda</translation>
    </message>
    <message>
        <source>They</source>
        <translation>Lawan bicara</translation>
    </message>
    <message>
        <source>done</source>
        <translation>sudah</translation>
    </message>
    <message>
        <source>not done</source>
        <translation>belum</translation>
    </message>
    <message>
        <source>Session summary</source>
        <translation>Ringkasan sesi</translation>
    </message>
    <message>
        <source>Key points</source>
        <translation>Poin penting</translation>
    </message>
    <message>
        <source>Tasks to practise</source>
        <translation>Tugas untuk dilatih</translation>
    </message>
    <message>
        <source>Crisis help: %1</source>
        <translation>Bantuan krisis: %1</translation>
    </message>
</context>
<context>
    <name>NotesPanel</name>
    <message>
        <source>Untitled note</source>
        <extracomment>template -&gt; section keys, exactly as the core stores them (shown translated)</extracomment>
        <translation>Catatan tanpa judul</translation>
    </message>
    <message>
        <source>Session, %1</source>
        <translation>Sesi, %1</translation>
    </message>
    <message>
        <source>Saved</source>
        <translation>Tersimpan</translation>
    </message>
    <message>
        <source>Editing…</source>
        <translation>Sedang menyunting…</translation>
    </message>
    <message>
        <source>Saving…</source>
        <translation>Menyimpan…</translation>
    </message>
    <message>
        <source>Not saved yet: will try again.</source>
        <translation>Belum tersimpan: akan dicoba lagi.</translation>
    </message>
    <message>
        <source>Subjective</source>
        <translation>Subjektif</translation>
    </message>
    <message>
        <source>Objective</source>
        <translation>Objektif</translation>
    </message>
    <message>
        <source>Assessment</source>
        <translation>Asesmen</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>Rencana</translation>
    </message>
    <message>
        <source>Data</source>
        <translation>Data</translation>
    </message>
    <message>
        <source>Notes</source>
        <translation>Catatan</translation>
    </message>
    <message>
        <source>Session notes</source>
        <translation>Catatan sesi</translation>
    </message>
    <message>
        <source>Only on this computer, encrypted. Saved as you type.</source>
        <translation>Hanya di komputer ini, terenkripsi. Tersimpan otomatis saat Anda mengetik.</translation>
    </message>
    <message>
        <source>Choose a conversation to read its notes and write new ones.</source>
        <translation>Pilih percakapan untuk membaca catatannya dan menulis catatan baru.</translation>
    </message>
    <message>
        <source>Search all notes</source>
        <translation>Cari di semua catatan</translation>
    </message>
    <message>
        <source>Search notes</source>
        <translation>Cari catatan</translation>
    </message>
    <message>
        <source>SOAP template</source>
        <translation>Templat SOAP</translation>
    </message>
    <message>
        <source>DAP template</source>
        <translation>Templat DAP</translation>
    </message>
    <message>
        <source>Free notes</source>
        <translation>Catatan bebas</translation>
    </message>
    <message>
        <source>Note template</source>
        <translation>Templat catatan</translation>
    </message>
    <message>
        <source>New note</source>
        <translation>Catatan baru</translation>
    </message>
    <message>
        <source>Session label</source>
        <translation>Label sesi</translation>
    </message>
</context>
<context>
    <name>Notifier</name>
    <message>
        <source>SecureChat</source>
        <translation>SecureChat</translation>
    </message>
    <message>
        <source>You have a new message.</source>
        <translation>Ada pesan baru untuk Anda.</translation>
    </message>
</context>
<context>
    <name>ReferralDialog</name>
    <message>
        <source>Send crisis numbers</source>
        <translation>Kirim nomor darurat</translation>
    </message>
    <message>
        <source>This sends the client the emergency numbers for their region and a short, calm note on what to do now. Use it when you are worried about their safety.</source>
        <translation>Ini mengirimkan nomor darurat di wilayah klien beserta catatan singkat yang menenangkan tentang apa yang dapat dilakukan sekarang. Gunakan bila Anda khawatir akan keselamatannya.</translation>
    </message>
    <message>
        <source>Language of the message</source>
        <translation>Bahasa pesan</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>Kirim</translation>
    </message>
</context>
<context>
    <name>SafetyNumberDialog</name>
    <message>
        <source>Safety number: %1</source>
        <translation>Nomor keamanan: %1</translation>
    </message>
    <message>
        <source>Safety number</source>
        <translation>Nomor keamanan</translation>
    </message>
    <message>
        <source>Safety number with %1</source>
        <translation>Nomor keamanan dengan %1</translation>
    </message>
    <message>
        <source>Compare these numbers with the other person, in person or on a call, or scan the code. If they match, nobody is in the middle of your conversation.</source>
        <translation>Cocokkan angka-angka ini dengan lawan bicara Anda, secara langsung atau lewat telepon, atau pindai kodenya. Jika sama, tidak ada pihak lain yang menyusup di tengah percakapan Anda.</translation>
    </message>
    <message>
        <source>✓ You marked this safety number as verified.</source>
        <translation>✓ Anda sudah menandai nomor keamanan ini sebagai terverifikasi.</translation>
    </message>
    <message>
        <source>Not verified yet.</source>
        <translation>Belum diverifikasi.</translation>
    </message>
    <message>
        <source>Mark as verified</source>
        <translation>Tandai terverifikasi</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Tutup</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>The new passphrase needs at least 10 characters, typed the same twice.</source>
        <translation>Frasa sandi baru minimal 10 karakter dan harus diketik sama dua kali.</translation>
    </message>
    <message>
        <source>1 message</source>
        <translation>1 pesan</translation>
    </message>
    <message>
        <source>%1 messages</source>
        <translation>%1 pesan</translation>
    </message>
    <message>
        <source>1 day</source>
        <translation>1 hari</translation>
    </message>
    <message>
        <source>%1 days</source>
        <translation>%1 hari</translation>
    </message>
    <message>
        <source>Delete older messages?</source>
        <translation>Hapus pesan lama?</translation>
    </message>
    <message>
        <source>%1 older than %2 will be deleted from this device for good.</source>
        <translation>%1 yang lebih lama dari %2 akan dihapus permanen dari perangkat ini.</translation>
    </message>
    <message>
        <source>This cannot be undone.</source>
        <translation>Tindakan ini tidak dapat dibatalkan.</translation>
    </message>
    <message>
        <source>Delete them</source>
        <translation>Hapus pesan</translation>
    </message>
    <message>
        <source>Keep them</source>
        <translation>Jangan hapus</translation>
    </message>
    <message>
        <source>Changing your passphrase… This takes a few seconds.</source>
        <translation>Sedang mengganti frasa sandi… Ini butuh beberapa detik.</translation>
    </message>
    <message>
        <source>Your passphrase was changed.</source>
        <translation>Frasa sandi Anda sudah diganti.</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Pengaturan</translation>
    </message>
    <message>
        <source>&amp;Server (relay) address</source>
        <translation>Alamat &amp;server (relay)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>&amp;Bahasa</translation>
    </message>
    <message>
        <source>&amp;Emergency numbers for</source>
        <translation>Nomor &amp;darurat untuk</translation>
    </message>
    <message>
        <source>&amp;Lock after (minutes idle, 0 = never)</source>
        <translation>&amp;Kunci setelah (menit tanpa aktivitas, 0 = tidak pernah)</translation>
    </message>
    <message>
        <source>&amp;Keep history (days, 0 = always)</source>
        <translation>&amp;Simpan riwayat (hari, 0 = selamanya)</translation>
    </message>
    <message>
        <source>Re&amp;member on this device</source>
        <translation>&amp;Ingat di perangkat ini</translation>
    </message>
    <message>
        <source>Another country</source>
        <translation>Negara lain</translation>
    </message>
    <message>
        <source>Never</source>
        <translation>Tidak pernah</translation>
    </message>
    <message>
        <source>Always</source>
        <translation>Selamanya</translation>
    </message>
    <message>
        <source>Unlock without a passphrase on this computer</source>
        <translation>Buka tanpa frasa sandi di komputer ini</translation>
    </message>
    <message>
        <source>Change passphrase</source>
        <translation>Ganti frasa sandi</translation>
    </message>
    <message>
        <source>Current passphrase</source>
        <translation>Frasa sandi saat ini</translation>
    </message>
    <message>
        <source>New passphrase</source>
        <translation>Frasa sandi baru</translation>
    </message>
    <message>
        <source>Repeat it</source>
        <translation>Ulangi</translation>
    </message>
</context>
<context>
    <name>SummaryComposer</name>
    <message>
        <source>Close the session with a summary</source>
        <translation>Tutup sesi dengan ringkasan</translation>
    </message>
    <message>
        <source>Write one key point or task per line. The client can tick tasks off.</source>
        <translation>Tulis satu poin penting atau tugas per baris. Klien dapat mencentang tugas yang sudah dikerjakan.</translation>
    </message>
    <message>
        <source>Key points</source>
        <translation>Poin penting</translation>
    </message>
    <message>
        <source>Tasks to practise</source>
        <translation>Tugas untuk dilatih</translation>
    </message>
    <message>
        <source>Send summary</source>
        <translation>Kirim ringkasan</translation>
    </message>
</context>
<context>
    <name>TaskDialog</name>
    <message>
        <source>Session summary</source>
        <translation>Ringkasan sesi</translation>
    </message>
    <message>
        <source>Key points</source>
        <translation>Poin penting</translation>
    </message>
    <message>
        <source>Tasks to practise</source>
        <translation>Tugas untuk dilatih</translation>
    </message>
</context>
<context>
    <name>WelcomeWindow</name>
    <message>
        <source>Counselor</source>
        <translation>Konselor</translation>
    </message>
    <message>
        <source>Client</source>
        <translation>Klien</translation>
    </message>
    <message>
        <source>The two passphrases are not the same yet.</source>
        <translation>Kedua frasa sandi belum sama.</translation>
    </message>
    <message>
        <source>Please enter a name to show to the other person.</source>
        <translation>Silakan isi nama yang akan dilihat lawan bicara Anda.</translation>
    </message>
    <message>
        <source>SecureChat: welcome</source>
        <translation>SecureChat: selamat datang</translation>
    </message>
    <message>
        <source>Welcome back</source>
        <translation>Selamat datang kembali</translation>
    </message>
    <message>
        <source>Choose your profile and enter your passphrase. Only you know it.</source>
        <translation>Pilih profil Anda dan masukkan frasa sandi. Hanya Anda yang mengetahuinya.</translation>
    </message>
    <message>
        <source>Profiles on this device</source>
        <translation>Profil di perangkat ini</translation>
    </message>
    <message>
        <source>&amp;Passphrase</source>
        <translation>&amp;Frasa sandi</translation>
    </message>
    <message>
        <source>Passphrase</source>
        <translation>Frasa sandi</translation>
    </message>
    <message>
        <source>Remember on this device (no passphrase next time)</source>
        <translation>Ingat di perangkat ini (lain kali tanpa frasa sandi)</translation>
    </message>
    <message>
        <source>Unlock</source>
        <translation>Buka kunci</translation>
    </message>
    <message>
        <source>Create a new profile</source>
        <translation>Buat profil baru</translation>
    </message>
    <message>
        <source>Create your profile</source>
        <translation>Buat profil Anda</translation>
    </message>
    <message>
        <source>Your profile stays on this computer, locked with a passphrase. If you forget the passphrase, nobody can recover your messages.</source>
        <translation>Profil Anda tersimpan di komputer ini dan dikunci dengan frasa sandi. Jika frasa sandi terlupa, tidak ada seorang pun yang dapat memulihkan pesan Anda.</translation>
    </message>
    <message>
        <source>&amp;Name shown to the other person</source>
        <translation>&amp;Nama yang dilihat lawan bicara</translation>
    </message>
    <message>
        <source>Name shown to the other person</source>
        <translation>Nama yang dilihat lawan bicara</translation>
    </message>
    <message>
        <source>A first name or a nickname is enough</source>
        <translation>Nama depan atau nama panggilan sudah cukup</translation>
    </message>
    <message>
        <source>I am</source>
        <translation>Saya</translation>
    </message>
    <message>
        <source>Looking for support (client)</source>
        <translation>Mencari dukungan (klien)</translation>
    </message>
    <message>
        <source>A counselor</source>
        <translation>Seorang konselor</translation>
    </message>
    <message>
        <source>Pass&amp;phrase</source>
        <translation>&amp;Frasa sandi</translation>
    </message>
    <message>
        <source>A few words only you would think of</source>
        <translation>Beberapa kata yang hanya terpikir oleh Anda</translation>
    </message>
    <message>
        <source>&amp;Repeat it</source>
        <translation>&amp;Ulangi</translation>
    </message>
    <message>
        <source>Repeat the passphrase</source>
        <translation>Ulangi frasa sandi</translation>
    </message>
    <message>
        <source>Create and unlock</source>
        <translation>Buat dan buka</translation>
    </message>
    <message>
        <source>Back to my profiles</source>
        <translation>Kembali ke profil saya</translation>
    </message>
</context>
<context>
    <name>buttons</name>
    <message>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Batal</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Tutup</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Simpan</translation>
    </message>
    <message>
        <source>Yes</source>
        <translation>Ya</translation>
    </message>
    <message>
        <source>No</source>
        <translation>Tidak</translation>
    </message>
</context>
<context>
    <name>crisis</name>
    <message>
        <source>Emergency services (police, ambulance, fire)</source>
        <translation>Layanan darurat (polisi, ambulans, pemadam kebakaran)</translation>
    </message>
    <message>
        <source>Free, 24 hours, from any phone.</source>
        <translation>Gratis, 24 jam, dari telepon apa pun.</translation>
    </message>
    <message>
        <source>Ministry of Health mental-health line</source>
        <translation>Layanan kesehatan jiwa Kementerian Kesehatan</translation>
    </message>
    <message>
        <source>Call 119, then press 8 to talk to someone.</source>
        <translation>Hubungi 119, lalu tekan 8 untuk berbicara dengan petugas.</translation>
    </message>
    <message>
        <source>If you are in danger right now, please call your local emergency number. You deserve help, and it is there for you.</source>
        <translation>Jika Anda dalam bahaya saat ini, segera hubungi nomor darurat setempat. Anda layak mendapat bantuan, dan bantuan itu ada untuk Anda.</translation>
    </message>
    <message>
        <source>If you might hurt yourself or someone else, call an emergency number now.</source>
        <translation>Jika Anda mungkin menyakiti diri sendiri atau orang lain, hubungi nomor darurat sekarang.</translation>
    </message>
    <message>
        <source>If you can, go to a safe place and be near someone you trust. Tell them.</source>
        <translation>Jika bisa, pergilah ke tempat yang aman dan dekati orang yang Anda percaya. Ceritakan kepadanya.</translation>
    </message>
    <message>
        <source>Put anything you could hurt yourself with out of reach, or give it to someone.</source>
        <translation>Jauhkan benda yang dapat melukai diri Anda, atau titipkan kepada orang lain.</translation>
    </message>
    <message>
        <source>Breathe slowly: in for a count of four, out for a count of six. Repeat.</source>
        <translation>Bernapaslah perlahan: tarik selama empat hitungan, embuskan selama enam hitungan. Ulangi.</translation>
    </message>
    <message>
        <source>You can write to your counselor too, but they may not answer at once: this app is not an emergency service.</source>
        <translation>Anda juga boleh menulis kepada konselor, tetapi mungkin tidak langsung dibalas: aplikasi ini bukan layanan darurat.</translation>
    </message>
</context>
<context>
    <name>delivery</name>
    <message>
        <source>Waiting to send</source>
        <translation>Menunggu dikirim</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Terkirim</translation>
    </message>
    <message>
        <source>Delivered</source>
        <translation>Diterima</translation>
    </message>
    <message>
        <source>Not delivered</source>
        <translation>Tidak tersampaikan</translation>
    </message>
</context>
<context>
    <name>errors</name>
    <message>
        <source>Something went wrong. Please try again in a moment.</source>
        <translation>Ada yang tidak beres. Silakan coba lagi sebentar lagi.</translation>
    </message>
    <message>
        <source>That passphrase is not right. Please check it and try again.</source>
        <translation>Frasa sandi itu belum tepat. Silakan periksa dan coba lagi.</translation>
    </message>
    <message>
        <source>A profile with this name already exists.</source>
        <translation>Sudah ada profil dengan nama ini.</translation>
    </message>
    <message>
        <source>This profile could not be found.</source>
        <translation>Profil ini tidak ditemukan.</translation>
    </message>
    <message>
        <source>This profile&apos;s files are damaged and cannot be opened. Please restore them from a backup.</source>
        <translation>Berkas profil ini rusak dan tidak dapat dibuka. Silakan pulihkan dari cadangan.</translation>
    </message>
    <message>
        <source>Your profile is locked. Please unlock it first.</source>
        <translation>Profil Anda terkunci. Silakan buka terlebih dahulu.</translation>
    </message>
    <message>
        <source>This profile is not remembered on this device. Please enter your passphrase.</source>
        <translation>Profil ini tidak diingat di perangkat ini. Silakan masukkan frasa sandi Anda.</translation>
    </message>
    <message>
        <source>This profile was saved by a newer version of SecureChat. Please update the app to open it.</source>
        <translation>Profil ini disimpan oleh SecureChat versi yang lebih baru. Silakan perbarui aplikasi untuk membukanya.</translation>
    </message>
    <message>
        <source>This device has no safe place to remember your key. Please enter your passphrase each time.</source>
        <translation>Perangkat ini tidak punya tempat aman untuk mengingat kunci Anda. Silakan masukkan frasa sandi setiap kali.</translation>
    </message>
    <message>
        <source>Please check what you entered: something is missing, too long or out of range.</source>
        <translation>Silakan periksa isian Anda: ada yang kosong, terlalu panjang, atau di luar batas.</translation>
    </message>
    <message>
        <source>This invite link is not valid. Please ask your counselor for a new one.</source>
        <translation>Tautan undangan ini tidak valid. Silakan minta tautan baru kepada konselor Anda.</translation>
    </message>
    <message>
        <source>This search is too long. Please search for at most 32 words.</source>
        <translation>Pencarian ini terlalu panjang. Silakan cari dengan paling banyak 32 kata.</translation>
    </message>
    <message>
        <source>That item no longer exists.</source>
        <translation>Data itu sudah tidak ada.</translation>
    </message>
    <message>
        <source>The export could not be written. Please check the folder and the free space.</source>
        <translation>Ekspor tidak dapat ditulis. Silakan periksa folder dan ruang kosong yang tersedia.</translation>
    </message>
    <message>
        <source>This export cannot be opened: the passphrase is wrong or the file is damaged.</source>
        <translation>Ekspor ini tidak dapat dibuka: frasa sandi salah atau berkasnya rusak.</translation>
    </message>
    <message>
        <source>A plain-text export leaves notes unencrypted on disk, so it needs your explicit choice.</source>
        <translation>Ekspor teks biasa membuat catatan tersimpan tanpa enkripsi di disk, jadi perlu pilihan tegas dari Anda.</translation>
    </message>
    <message>
        <source>This profile is in use by another SecureChat window or command. Please close it and try again.</source>
        <translation>Profil ini sedang dipakai oleh jendela atau perintah SecureChat lain. Silakan tutup lalu coba lagi.</translation>
    </message>
    <message>
        <source>SecureChat cannot save to this profile&apos;s folder because it is read-only. Please check the folder&apos;s permissions.</source>
        <translation>SecureChat tidak dapat menyimpan ke folder profil ini karena folder tersebut hanya dapat dibaca. Silakan periksa izin akses folder tersebut.</translation>
    </message>
    <message>
        <source>This conversation cannot be used for that right now.</source>
        <translation>Percakapan ini belum dapat dipakai untuk itu sekarang.</translation>
    </message>
    <message>
        <source>This counselor&apos;s profile could not be checked, so it was not opened. Please ask for a new invite.</source>
        <translation>Profil konselor ini tidak dapat diperiksa, jadi tidak dibuka. Silakan minta undangan baru.</translation>
    </message>
    <message>
        <source>The server refused the request. Please try again later.</source>
        <translation>Server menolak permintaan ini. Silakan coba lagi nanti.</translation>
    </message>
    <message>
        <source>The other person&apos;s mailbox is full for now. Please try again later.</source>
        <translation>Kotak pesan lawan bicara Anda sedang penuh. Silakan coba lagi nanti.</translation>
    </message>
    <message>
        <source>Please read and accept the disclosure before sending a message.</source>
        <translation>Silakan baca dan setujui pernyataan layanan sebelum mengirim pesan.</translation>
    </message>
    <message>
        <source>The other person&apos;s safety number changed. Please confirm it before sending.</source>
        <translation>Nomor keamanan lawan bicara Anda berubah. Silakan konfirmasi sebelum mengirim.</translation>
    </message>
    <message>
        <source>A message could not be opened.</source>
        <translation>Sebuah pesan tidak dapat dibuka.</translation>
    </message>
    <message>
        <source>Your data could not be saved on this device. Please check the free space.</source>
        <translation>Data Anda tidak dapat disimpan di perangkat ini. Silakan periksa ruang penyimpanan yang tersisa.</translation>
    </message>
    <message>
        <source>This profile cannot be opened right now.</source>
        <extracomment>exception class name -&gt; English source text of the message</extracomment>
        <translation>Profil ini belum dapat dibuka sekarang.</translation>
    </message>
    <message>
        <source>This name cannot be used for a profile. Please choose another one.</source>
        <translation>Nama ini tidak dapat dipakai untuk profil. Silakan pilih nama lain.</translation>
    </message>
    <message>
        <source>This conversation has ended.</source>
        <translation>Percakapan ini sudah berakhir.</translation>
    </message>
    <message>
        <source>The server cannot be reached right now. Please check your connection and try again.</source>
        <translation>Server belum dapat dihubungi saat ini. Silakan periksa koneksi Anda, lalu coba lagi.</translation>
    </message>
    <message>
        <source>This is taking too long. Please check your connection and try again.</source>
        <translation>Ini memakan waktu terlalu lama. Silakan periksa koneksi Anda dan coba lagi.</translation>
    </message>
    <message>
        <source>The server cannot be reached right now. Please check your connection.</source>
        <translation>Server belum dapat dihubungi saat ini. Silakan periksa koneksi Anda.</translation>
    </message>
</context>
<context>
    <name>sameName</name>
    <message>
        <source>Another conversation has the same name. Names are chosen by people themselves; compare safety numbers before you treat them as the same person.</source>
        <translation>Ada percakapan lain dengan nama yang sama. Nama dipilih sendiri oleh setiap orang; bandingkan nomor keamanan sebelum Anda menganggap mereka orang yang sama.</translation>
    </message>
</context>
<context>
    <name>strength</name>
    <message>
        <source>Too short: use at least 10 characters.</source>
        <translation>Terlalu pendek: gunakan minimal 10 karakter.</translation>
    </message>
    <message>
        <source>Weak: add more words.</source>
        <translation>Lemah: tambahkan beberapa kata lagi.</translation>
    </message>
    <message>
        <source>Fair: a few more words would make it strong.</source>
        <translation>Cukup: beberapa kata lagi akan membuatnya kuat.</translation>
    </message>
    <message>
        <source>Strong.</source>
        <translation>Kuat.</translation>
    </message>
</context>
</TS>
