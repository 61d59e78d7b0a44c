"""Finding a counselor (invite link, directory) and the disclosure-and-consent gate."""
