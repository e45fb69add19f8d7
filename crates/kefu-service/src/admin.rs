//! Administration: first-run setup, users, teams, inboxes and contacts. Every query is scoped by organisation.

use crate::auth::require_admin;
use crate::{Result, Service, ServiceError, new_id};
use kefu_core::model::*;
use kefu_core::{DomainError, validate};
use kefu_store::now_ms;
use uuid::Uuid;

#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub capacity: Option<u32>,
    pub active: Option<bool>,
    pub password: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewInbox {
    pub kind: InboxKind,
    pub name: String,
    pub settings: serde_json::Value,
    pub teams: Vec<Uuid>,
}

/// A widget's settings and whether someone can answer now.
pub struct WidgetState {
    pub inbox: Inbox,
    pub settings: kefu_core::widget::WidgetSettings,
    pub within_hours: bool,
    pub agents_online: bool,
}

/// What first-run setup did.
pub struct Setup {
    pub organisation: Organisation,
    pub created: bool,
}

impl Service {
    /// On an empty database: one organisation and its "Website" inbox. Returns the organisation either way.
    /// Nodes starting together on an empty database make one: the first to take the setup lock does.
    pub async fn ensure_organisation(&self) -> Result<Setup> {
        if let Some(organisation) = self.store().organisation().await? {
            return Ok(Setup {
                organisation,
                created: false,
            });
        }
        let now = now_ms();
        let org_id = new_id();
        let mut tx = self.store().begin().await?;
        tx.lock_setup().await?;
        let created = !tx.has_organisation().await?;
        if !created {
            drop(tx);
            let organisation = self
                .store()
                .organisation()
                .await?
                .ok_or(ServiceError::NotFound("organisation"))?;
            return Ok(Setup { organisation, created });
        }
        tx.insert_organisation(org_id, "Kefu", now).await?;
        let token = crate::auth::new_token();
        let inbox_id = new_id();
        tx.insert_inbox(
            inbox_id,
            org_id,
            InboxKind::Web,
            "Website",
            Some(&token),
            &serde_json::json!({}),
            now,
        )
        .await?;
        tx.set_inbox_identity_secret(inbox_id, &crate::auth::new_token(), now)
            .await?;
        tx.commit().await?;
        let organisation = self
            .store()
            .organisation()
            .await?
            .ok_or(ServiceError::NotFound("organisation"))?;
        Ok(Setup {
            organisation,
            created: true,
        })
    }

    pub async fn admin_create_user(
        &self,
        admin: &User,
        email: &str,
        name: &str,
        password: &str,
        role: Role,
        capacity: Option<u32>,
    ) -> Result<User> {
        require_admin(admin)?;
        self.create_user(admin.org_id, email, name, password, role, capacity)
            .await
    }

    pub async fn update_user(&self, admin: &User, id: Uuid, changes: UserChanges) -> Result<User> {
        require_admin(admin)?;
        let name = changes.name.as_deref().map(|n| validate::name("name", n)).transpose()?;
        if let Some(c) = changes.capacity {
            validate::capacity(c)?;
        }
        if admin.id == id && (changes.active == Some(false) || changes.role.is_some_and(|r| r != Role::Admin)) {
            return Err(ServiceError::Forbidden(
                "an admin cannot deactivate or demote themselves",
            ));
        }
        let password_hash = match &changes.password {
            Some(p) => Some(self.password_hash_for(p).await?),
            None => None,
        };
        let now = now_ms();
        let mut tx = self.store().begin().await?;
        tx.lock_organisation(admin.org_id).await?;
        let found = tx
            .update_user(
                admin.org_id,
                id,
                name.as_deref(),
                changes.role,
                changes.capacity,
                changes.active,
                password_hash.as_deref(),
                now,
            )
            .await?;
        if !found {
            return Err(ServiceError::NotFound("user"));
        }
        if changes.active == Some(false) || password_hash.is_some() {
            tx.delete_sessions_of(id).await?;
        }
        tx.commit().await?;
        if changes.active.is_some() || changes.role.is_some() || password_hash.is_some() {
            self.publish(vec![crate::Notification::UserChanged { user_id: id }]);
        }
        if changes.active == Some(false) {
            // A deactivated agent's conversations go back to the queue.
            self.set_presence(admin.org_id, id, Presence::Offline).await?;
        } else if changes.capacity.is_some() || changes.active == Some(true) {
            self.reroute(admin.org_id).await?;
        }
        self.store()
            .user(admin.org_id, id)
            .await?
            .ok_or(ServiceError::NotFound("user"))
    }

    pub async fn users(&self, user: &User) -> Result<Vec<User>> {
        Ok(self.store().users(user.org_id).await?)
    }

    pub async fn user(&self, user: &User, id: Uuid) -> Result<User> {
        self.store()
            .user(user.org_id, id)
            .await?
            .ok_or(ServiceError::NotFound("user"))
    }

    pub async fn teams(&self, user: &User) -> Result<Vec<Team>> {
        Ok(self.store().teams(user.org_id).await?)
    }

    pub async fn team(&self, user: &User, id: Uuid) -> Result<Team> {
        self.store()
            .team(user.org_id, id)
            .await?
            .ok_or(ServiceError::NotFound("team"))
    }

    pub async fn create_team(&self, admin: &User, name: &str) -> Result<Team> {
        require_admin(admin)?;
        let name = validate::name("name", name)?;
        let id = new_id();
        let mut tx = self.store().begin().await?;
        tx.insert_team(id, admin.org_id, &name, now_ms()).await?;
        tx.commit().await?;
        self.team(admin, id).await
    }

    pub async fn rename_team(&self, admin: &User, id: Uuid, name: &str) -> Result<Team> {
        require_admin(admin)?;
        let name = validate::name("name", name)?;
        let mut tx = self.store().begin().await?;
        if !tx.rename_team(admin.org_id, id, &name).await? {
            return Err(ServiceError::NotFound("team"));
        }
        tx.commit().await?;
        self.team(admin, id).await
    }

    pub async fn delete_team(&self, admin: &User, id: Uuid) -> Result<()> {
        require_admin(admin)?;
        let mut tx = self.store().begin().await?;
        tx.lock_organisation(admin.org_id).await?;
        if !tx.delete_team(admin.org_id, id).await? {
            return Err(ServiceError::NotFound("team"));
        }
        tx.commit().await?;
        self.reroute(admin.org_id).await
    }

    pub async fn add_team_member(&self, admin: &User, team_id: Uuid, user_id: Uuid) -> Result<Team> {
        require_admin(admin)?;
        self.team(admin, team_id).await?;
        self.user(admin, user_id).await?;
        let mut tx = self.store().begin().await?;
        tx.add_team_member(team_id, user_id).await?;
        tx.commit().await?;
        self.publish(vec![crate::Notification::UserChanged { user_id }]);
        self.reroute(admin.org_id).await?;
        self.team(admin, team_id).await
    }

    pub async fn remove_team_member(&self, admin: &User, team_id: Uuid, user_id: Uuid) -> Result<Team> {
        require_admin(admin)?;
        self.team(admin, team_id).await?;
        let mut tx = self.store().begin().await?;
        if !tx.remove_team_member(team_id, user_id).await? {
            return Err(ServiceError::NotFound("team member"));
        }
        tx.commit().await?;
        self.publish(vec![crate::Notification::UserChanged { user_id }]);
        self.team(admin, team_id).await
    }

    pub async fn inboxes(&self, user: &User) -> Result<Vec<Inbox>> {
        let inboxes = self.store().inboxes(user.org_id).await?;
        Ok(inboxes.into_iter().map(|i| shown_to(user, i)).collect())
    }

    pub async fn inbox(&self, user: &User, id: Uuid) -> Result<Inbox> {
        self.store()
            .inbox(user.org_id, id)
            .await?
            .map(|i| shown_to(user, i))
            .ok_or(ServiceError::NotFound("inbox"))
    }

    /// A new identity secret for the inbox: hashes made with the old one stop verifying at once.
    pub async fn rotate_identity_secret(&self, admin: &User, id: Uuid) -> Result<Inbox> {
        require_admin(admin)?;
        self.inbox(admin, id).await?;
        let mut tx = self.store().begin().await?;
        tx.set_inbox_identity_secret(id, &crate::auth::new_token(), now_ms())
            .await?;
        tx.commit().await?;
        self.inbox(admin, id).await
    }

    async fn check_teams(&self, org_id: Uuid, teams: &[Uuid]) -> Result<()> {
        for t in teams {
            if self.store().team(org_id, *t).await?.is_none() {
                return Err(DomainError::invalid("teams", format!("team {t} does not exist")).into());
            }
        }
        Ok(())
    }

    pub async fn create_inbox(&self, admin: &User, new: NewInbox) -> Result<Inbox> {
        require_admin(admin)?;
        let name = validate::name("name", &new.name)?;
        if !new.settings.is_object() {
            return Err(DomainError::invalid("settings", "must be an object").into());
        }
        // A web inbox has a widget token; an email inbox has passwords, sealed apart from its settings.
        let (token, settings, sealed) = match new.kind {
            InboxKind::Web => {
                kefu_core::widget::WidgetSettings::from_inbox_settings(&new.settings)?;
                (Some(crate::auth::new_token()), new.settings.clone(), None)
            }
            InboxKind::Email => {
                let (settings, sealed) = self.seal_email_settings(&new.settings, None)?;
                (None, settings, Some(sealed))
            }
            InboxKind::Wechat | InboxKind::Wecom | InboxKind::TwilioSms | InboxKind::AliyunSms | InboxKind::Weibo => {
                let (settings, sealed) = self.seal_channel_settings(new.kind, None, &new.settings).await?;
                (None, settings, Some(sealed))
            }
            // Its secret (the bearer token the integration posts with, and the key replies are signed with) is the
            // inbox's identity secret, made below.
            InboxKind::Api => {
                let settings = kefu_core::api_channel::ApiChannelSettings::parse(&new.settings)?;
                (None, serde_json::to_value(settings).expect("settings serialize"), None)
            }
        };
        self.check_teams(admin.org_id, &new.teams).await?;
        let id = new_id();
        let mut tx = self.store().begin().await?;
        tx.insert_inbox(id, admin.org_id, new.kind, &name, token.as_deref(), &settings, now_ms())
            .await?;
        if let Some(sealed) = &sealed {
            tx.set_inbox_secrets(id, sealed).await?;
        }
        // An email inbox connects out; a webhook channel waits to be called, which the state says until it is.
        let state = match new.kind {
            InboxKind::Web => None,
            InboxKind::Email => Some(("connecting", "")),
            InboxKind::Wechat => Some(("waiting", "waiting for WeChat to call the webhook URL")),
            InboxKind::TwilioSms => Some(("waiting", "waiting for Twilio to call the webhook URL")),
            InboxKind::AliyunSms => Some(("waiting", "waiting for Aliyun to push to the webhook URL")),
            InboxKind::Weibo => Some(("waiting", "waiting for Weibo to call the webhook URL")),
            InboxKind::Wecom => Some(("waiting", "waiting for WeCom to call the callback URL")),
            InboxKind::Api => Some(("waiting", "waiting for the integration's first message")),
        };
        if let Some((status, message)) = state {
            let state = serde_json::json!({ "status": status, "message": message, "since": Timestamp(now_ms()) });
            tx.set_channel_state(id, &state).await?;
        }
        tx.set_inbox_teams(id, &new.teams).await?;
        tx.set_inbox_identity_secret(id, &crate::auth::new_token(), now_ms())
            .await?;
        tx.commit().await?;
        self.inbox(admin, id).await
    }

    pub async fn update_inbox(
        &self,
        admin: &User,
        id: Uuid,
        name: Option<&str>,
        settings: Option<&serde_json::Value>,
        teams: Option<&[Uuid]>,
    ) -> Result<Inbox> {
        require_admin(admin)?;
        let name = name.map(|n| validate::name("name", n)).transpose()?;
        let current = self.inbox(admin, id).await?;
        let mut sealed = None;
        let mut stored = None;
        if let Some(settings) = settings {
            if !settings.is_object() {
                return Err(DomainError::invalid("settings", "must be an object").into());
            }
            match current.kind {
                InboxKind::Web => {
                    kefu_core::widget::WidgetSettings::from_inbox_settings(settings)?;
                }
                InboxKind::Email => {
                    // Passwords left out of an edit stay as they were.
                    let previous = self.email_secrets(id).await.ok().flatten();
                    let (redacted, s) = self.seal_email_settings(settings, previous.as_ref())?;
                    stored = Some(redacted);
                    sealed = Some(s);
                }
                InboxKind::Wechat
                | InboxKind::Wecom
                | InboxKind::TwilioSms
                | InboxKind::AliyunSms
                | InboxKind::Weibo => {
                    let (redacted, s) = self.seal_channel_settings(current.kind, Some(id), settings).await?;
                    stored = Some(redacted);
                    sealed = Some(s);
                }
                InboxKind::Api => {
                    let parsed = kefu_core::api_channel::ApiChannelSettings::parse(settings)?;
                    stored = Some(serde_json::to_value(parsed).expect("settings serialize"));
                }
            }
        }
        let settings = stored.as_ref().or(settings);
        if let Some(teams) = teams {
            self.check_teams(admin.org_id, teams).await?;
        }
        let mut tx = self.store().begin().await?;
        if !tx
            .update_inbox(admin.org_id, id, name.as_deref(), settings, now_ms())
            .await?
        {
            return Err(ServiceError::NotFound("inbox"));
        }
        if let Some(teams) = teams {
            tx.set_inbox_teams(id, teams).await?;
        }
        if let Some(sealed) = &sealed {
            tx.set_inbox_secrets(id, sealed).await?;
        }
        tx.commit().await?;
        if teams.is_some() {
            self.reroute(admin.org_id).await?;
        }
        self.inbox(admin, id).await
    }

    /// What a widget shows before anyone writes: public, by the widget token a site embeds. Also says whether
    /// anyone can answer now (within working hours, with an agent online), so the widget can offer the
    /// leave-a-message form instead.
    pub async fn widget_config(&self, widget_token: &str) -> Result<WidgetState> {
        let inbox = self
            .store()
            .inbox_by_widget_token(widget_token)
            .await?
            .ok_or(ServiceError::NotFound("widget token"))?;
        let settings = kefu_core::widget::WidgetSettings::from_inbox_settings(&inbox.settings)?;
        let within_hours = settings.working_hours.is_open(chrono::Utc::now());
        let agents_online = self.store().agents_online_for(inbox.org_id, inbox.id).await?;
        Ok(WidgetState {
            inbox,
            settings,
            within_hours,
            agents_online,
        })
    }

    pub async fn contact(&self, user: &User, id: Uuid) -> Result<Contact> {
        self.store()
            .contact(user.org_id, id)
            .await?
            .ok_or(ServiceError::NotFound("contact"))
    }

    /// The contacts that are the same person as this one, on every channel (itself included).
    pub async fn person_contacts(&self, user: &User, id: Uuid) -> Result<Vec<Contact>> {
        self.contact(user, id).await?;
        Ok(self.store().person_contacts(user.org_id, id).await?)
    }

    /// Contacts to pick from: by name, email, phone or channel id.
    pub async fn search_contacts(&self, user: &User, query: &str) -> Result<Vec<Contact>> {
        let query = query.trim();
        if query.is_empty() || query.chars().count() > 100 {
            return Err(DomainError::invalid("q", "give 1-100 characters to search for").into());
        }
        Ok(self.store().search_contacts(user.org_id, query, 20).await?)
    }

    /// The same customer reached Kefu on two channels: their contacts become one person, whose conversations
    /// every channel's contact panel shows. Returns the person's contacts.
    pub async fn merge_contacts(&self, user: &User, id: Uuid, other: Uuid) -> Result<Vec<Contact>> {
        let into = self.contact(user, id).await?;
        let merged = self.contact(user, other).await?;
        if into.person_id == merged.person_id {
            return Err(ServiceError::Conflict(
                "these contacts are already the same person".into(),
            ));
        }
        let mut tx = self.store().begin().await?;
        tx.merge_people(user.org_id, into.person_id, merged.person_id).await?;
        tx.commit().await?;
        Ok(self.store().person_contacts(user.org_id, id).await?)
    }

    /// Takes a contact back out of the person it was merged into.
    pub async fn unlink_contact(&self, user: &User, id: Uuid) -> Result<Contact> {
        let contact = self.contact(user, id).await?;
        let others: Vec<Contact> = self
            .store()
            .person_contacts(user.org_id, id)
            .await?
            .into_iter()
            .filter(|c| c.id != id)
            .collect();
        if others.is_empty() {
            return Err(ServiceError::Conflict("this contact is not merged with another".into()));
        }
        let mut tx = self.store().begin().await?;
        tx.unlink_person(user.org_id, &contact, &others).await?;
        tx.commit().await?;
        self.contact(user, id).await
    }

    pub async fn update_contact(
        &self,
        user: &User,
        id: Uuid,
        name: Option<&str>,
        email: Option<Option<&str>>,
        phone: Option<Option<&str>>,
        attributes: Option<&serde_json::Value>,
    ) -> Result<Contact> {
        self.contact(user, id).await?;
        let name = name.map(|n| validate::name("name", n)).transpose()?;
        let email = match email {
            Some(Some(e)) => Some(Some(validate::email(e)?)),
            Some(None) => Some(None),
            None => None,
        };
        let phone = match phone {
            Some(Some(p)) => Some(Some(validate::phone(p)?)),
            Some(None) => Some(None),
            None => None,
        };
        if attributes.is_some_and(|a| !a.is_object()) {
            return Err(DomainError::invalid("attributes", "must be an object").into());
        }
        let mut tx = self.store().begin().await?;
        let contact = tx
            .update_contact(
                id,
                name.as_deref(),
                email.as_ref().map(|e| e.as_deref()),
                phone.as_ref().map(|p| p.as_deref()),
                attributes,
                now_ms(),
            )
            .await?;
        tx.commit().await?;
        Ok(contact)
    }
}

impl Service {
    /// The shared canned replies and the user's own, optionally searched.
    pub async fn canned_replies(&self, user: &User, query: Option<&str>) -> Result<Vec<CannedReply>> {
        let query = query.map(str::trim).filter(|q| !q.is_empty());
        Ok(self.store().canned_replies(user.org_id, user.id, query).await?)
    }

    /// A personal canned reply, or a shared one (admins only).
    pub async fn create_canned_reply(
        &self,
        user: &User,
        shortcut: &str,
        content: &str,
        shared: bool,
    ) -> Result<CannedReply> {
        if shared {
            require_admin(user)?;
        }
        let shortcut = validate::shortcut(shortcut)?;
        validate::message_content(content)?;
        let id = new_id();
        let mut tx = self.store().begin().await?;
        tx.insert_canned_reply(
            id,
            user.org_id,
            (!shared).then_some(user.id),
            &shortcut,
            content,
            now_ms(),
        )
        .await?;
        tx.commit().await?;
        self.canned_reply(user, id).await
    }

    async fn canned_reply(&self, user: &User, id: Uuid) -> Result<CannedReply> {
        self.store()
            .canned_reply(user.org_id, id)
            .await?
            .ok_or(ServiceError::NotFound("canned reply"))
    }

    /// A canned reply this user may change: their own, or a shared one if they are an admin.
    async fn own_canned_reply(&self, user: &User, id: Uuid) -> Result<CannedReply> {
        let reply = self
            .store()
            .canned_reply(user.org_id, id)
            .await?
            .filter(|r| r.shared || r.owner_id == Some(user.id))
            .ok_or(ServiceError::NotFound("canned reply"))?;
        if reply.shared {
            require_admin(user)?;
        }
        Ok(reply)
    }

    pub async fn update_canned_reply(
        &self,
        user: &User,
        id: Uuid,
        shortcut: Option<&str>,
        content: Option<&str>,
    ) -> Result<CannedReply> {
        self.own_canned_reply(user, id).await?;
        let shortcut = shortcut.map(validate::shortcut).transpose()?;
        if let Some(content) = content {
            validate::message_content(content)?;
        }
        let mut tx = self.store().begin().await?;
        tx.update_canned_reply(id, shortcut.as_deref(), content, now_ms())
            .await?;
        tx.commit().await?;
        self.canned_reply(user, id).await
    }

    pub async fn delete_canned_reply(&self, user: &User, id: Uuid) -> Result<()> {
        self.own_canned_reply(user, id).await?;
        let mut tx = self.store().begin().await?;
        tx.delete_canned_reply(id).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The identity secret is for admins' eyes only: anyone who has it can pose as any of the customer's users.
fn shown_to(user: &User, inbox: Inbox) -> Inbox {
    if user.role == Role::Admin {
        inbox
    } else {
        Inbox {
            identity_secret: None,
            ..inbox
        }
    }
}
