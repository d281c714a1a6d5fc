"""The staff audit log: every state-changing request by staff under /dashboard/ and /admin/."""
