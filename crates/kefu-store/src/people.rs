//! People: contacts of different channels merged as one customer share a person id. Reading a person's
//! contacts, finding contacts to merge, and linking and unlinking them.

use crate::rows::{self, CONTACT_COLUMNS};
use crate::{Result, Store, Tx};
use kefu_core::model::Contact;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

impl Store {
    /// Every contact that is the same person as `id` (itself included), oldest first.
    pub async fn person_contacts(&self, org_id: Uuid, id: Uuid) -> Result<Vec<Contact>> {
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE org_id = $1 AND COALESCE(person_id, id) = \
             (SELECT COALESCE(person_id, id) FROM contacts WHERE id = $2 AND org_id = $1) ORDER BY created_at, id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .bind(id.to_string())
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(rows::contact).collect()
    }

    /// Contacts whose name, email, phone or channel id holds `query`, newest first.
    pub async fn search_contacts(&self, org_id: Uuid, query: &str, limit: i64) -> Result<Vec<Contact>> {
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE org_id = $1 AND (LOWER(name) LIKE $2 ESCAPE '!' \
             OR LOWER(COALESCE(email, '')) LIKE $2 ESCAPE '!' OR LOWER(COALESCE(phone, '')) LIKE $2 ESCAPE '!' \
             OR LOWER(COALESCE(external_id, '')) LIKE $2 ESCAPE '!') ORDER BY updated_at DESC, id DESC LIMIT $3"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .bind(rows::like_pattern(query.trim()))
            .bind(limit)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(rows::contact).collect()
    }
}

impl Tx {
    /// Makes `other`'s person (all its contacts) the same person as `into`.
    pub async fn merge_people(&mut self, org_id: Uuid, into: Uuid, other: Uuid) -> Result<()> {
        sqlx::query("UPDATE contacts SET person_id = $3 WHERE org_id = $1 AND COALESCE(person_id, id) = $2")
            .bind(org_id.to_string())
            .bind(other.to_string())
            .bind(into.to_string())
            .execute(self.tx.conn().await?)
            .await?;
        // The person's own contact names itself too, so the group reads the same from any of them.
        sqlx::query("UPDATE contacts SET person_id = $2 WHERE org_id = $1 AND id = $2")
            .bind(org_id.to_string())
            .bind(into.to_string())
            .execute(self.tx.conn().await?)
            .await?;
        Ok(())
    }

    /// Takes a contact out of its person; when it was the one the person is named after, the others are renamed
    /// after the oldest of them.
    pub async fn unlink_person(&mut self, org_id: Uuid, contact: &Contact, others: &[Contact]) -> Result<()> {
        if contact.person_id == contact.id
            && let Some(heir) = others.first()
        {
            sqlx::query("UPDATE contacts SET person_id = $3 WHERE org_id = $1 AND person_id = $2")
                .bind(org_id.to_string())
                .bind(contact.id.to_string())
                .bind(heir.id.to_string())
                .execute(self.tx.conn().await?)
                .await?;
        }
        sqlx::query("UPDATE contacts SET person_id = NULL WHERE org_id = $1 AND id = $2")
            .bind(org_id.to_string())
            .bind(contact.id.to_string())
            .execute(self.tx.conn().await?)
            .await?;
        Ok(())
    }
}
