"""Pure domain: tickets, tenants, identity, geography. Imports nothing from AWS or Chalice."""
