//! Eligibility rules of RULES.md over dated parameters, with explanations (core)
