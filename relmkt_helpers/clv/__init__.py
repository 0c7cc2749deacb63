"""Customer lifetime value: data preparation, repeat-purchase and spend models, value per customer."""
