//! Mailboxes: how code outside the ECS (the page's calls, network futures)
//! hands messages to the app. A callback sends into a channel; once per
//! update, before anything reads input, the mailbox's contents become
//! ordinary Bevy messages.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};

use bevy::prelude::*;

use crate::AppSystems;

/// The receiving end of a mailbox for messages `M`.
#[derive(Resource)]
struct Mailbox<M>(Mutex<Receiver<M>>);

/// Registers message `M`, delivered through a new mailbox; returns the
/// sender to hand to whatever produces them.
pub fn add_mailbox<M: Message>(app: &mut App) -> Sender<M> {
    let (sender, receiver) = channel();
    app.insert_resource(Mailbox(Mutex::new(receiver)));
    app.add_message::<M>();
    app.add_systems(Update, deliver::<M>.in_set(AppSystems::ReadInput));
    sender
}

fn deliver<M: Message>(mailbox: Res<Mailbox<M>>, mut messages: MessageWriter<M>) {
    // A poisoned lock means a panic elsewhere, which has already ended the
    // app in the browser (panic = abort).
    if let Ok(receiver) = mailbox.0.lock() {
        messages.write_batch(receiver.try_iter());
    }
}
