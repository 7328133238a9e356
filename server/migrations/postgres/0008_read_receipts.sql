-- Lots server schema, version 8, for PostgreSQL: the reads a device has logged (a household
-- opened on a screen, online or offline), each by the id the device gave it, so that an
-- upload sent again after a lost answer is logged once. Written with the read's audit row,
-- in the same transaction.
CREATE TABLE read_receipts (
    device_id   TEXT NOT NULL,
    read_id     TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, read_id)
);
