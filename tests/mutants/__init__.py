"""Implementations written as a student would, some with one planted mistake each: the checks of
minigen.check must fail exactly the targeted property of a mutant, with the right named mistake,
and pass every correct variant. Never shipped with the package."""
