"""The private half of ``InitReport.verify``: what each initializer promises, and how a tensor is measured."""
