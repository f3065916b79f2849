"""Insights on the stored verbatims: emerging themes outside the taxonomy (docs/INSIGHTS.md)."""
