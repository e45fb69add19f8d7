-- One person, several contacts: the same customer on the web, WeChat and SMS is a contact per inbox; merged
-- contacts share a person id (the id of one of them). NULL: the contact is a person of its own.
ALTER TABLE contacts ADD COLUMN person_id TEXT;
CREATE INDEX contacts_person ON contacts (person_id);
