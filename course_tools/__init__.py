"""course_tools: the maintainers' and instructors' programs (not imported by the notebooks)."""
