"""Reading the outside world: models, training logs and sample sets. All untrusted input enters here."""
