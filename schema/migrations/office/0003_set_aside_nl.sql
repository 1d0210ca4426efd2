-- Why a record was set aside, in Dutch as well, as the bus is told it.
ALTER TABLE set_aside ADD COLUMN message_nl TEXT NOT NULL DEFAULT '';
