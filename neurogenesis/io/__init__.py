"""Reading the outside world. All untrusted input enters here."""
