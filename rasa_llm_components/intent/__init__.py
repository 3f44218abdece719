"""Fine-tuned transformer intent classification: model, training loop and persistence."""
