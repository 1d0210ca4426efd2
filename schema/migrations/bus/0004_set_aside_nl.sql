-- The office says why it set a record aside in Dutch as well, for the
-- tablet, which shows Dutch first.
ALTER TABLE set_aside ADD COLUMN message_nl TEXT NOT NULL DEFAULT '';
