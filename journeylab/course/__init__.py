"""The course layer: self-checks for the notebooks' exercises
(:mod:`~journeylab.course.exercises`, ``jl.exercises.check_...``) and the solutions builder
(:mod:`~journeylab.course.solutions`, ``python -m journeylab.course.solutions``).
"""
