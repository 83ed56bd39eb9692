"""PDFs the learners app renders: ``certificate`` and ``transcript``."""
