"""Safety numbers: the dialog with 60 digits in 12 groups and a QR code."""
