-- Every account's skills (JSON lists), for the set of skill names rule sets may require.
SELECT skills FROM agents
