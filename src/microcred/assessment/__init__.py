"""Assessments, scoring rubrics, quizzes, evidence review, automatic awarding and surveys."""
