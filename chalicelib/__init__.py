"""Cepat Respon: everything that ships to Lambda lives in this package."""
