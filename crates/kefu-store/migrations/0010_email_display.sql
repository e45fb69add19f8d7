-- What agents see of a mail besides its text: the subject on the message, and the sanitised HTML of the
-- original kept with the mail's record, shown on request.

-- JSON {subject, html}, NULL for messages that are not mails
ALTER TABLE messages ADD COLUMN email TEXT;
-- the mail's HTML part after sanitising, NULL when it had none
ALTER TABLE email_messages ADD COLUMN html TEXT;
CREATE INDEX email_messages_message ON email_messages (kefu_message_id);
