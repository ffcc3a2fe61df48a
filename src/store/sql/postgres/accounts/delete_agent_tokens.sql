-- Deletes every token of a staff account (deactivation, role change, password reset).
DELETE FROM tokens WHERE subject = $1 AND kind = 'staff'
