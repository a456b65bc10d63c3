//! The scheduler keeps every To Do binding's subscription alive, against moto and the
//! Graph emulator, with the real webhook answering the emulator's handshakes over loopback HTTP.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod conflicts;
mod failures;
mod renewal;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tasksync::graph::models::subscription::NewSubscription;
use tasksync::model::SubscriptionRecord;
use tasksync::ports::{ScheduleStore, SubscriptionLookup, SubscriptionSave};
use tasksync::queue_message::Hint;
use tasksync::scheduler::{
    BindingSchedule, SubscriptionAction, recreate_subscription, resync_binding,
};
use tasksync::standalone::emulator_stack;
use tasksync::subscription_setup::WebhookUrls;
use testkit::scheduler_harness::SchedulerWorld;

async fn schedule(world: &SchedulerWorld, binding_id: &str) -> BindingSchedule {
    world
        .sync
        .get_schedule(binding_id)
        .await
        .expect("store")
        .expect("schedule exists")
}

/// The subscription the binding's schedule records.
async fn subscription_id(world: &SchedulerWorld, binding_id: &str) -> String {
    schedule(world, binding_id)
        .await
        .subscription_id
        .expect("subscription")
}

/// A new To Do binding, subscribed by one scheduler run; the binding and its subscription.
async fn subscribed_binding(
    world: &SchedulerWorld,
    id: &str,
) -> (tasksync::model::Binding, String) {
    let binding = world.todo_binding(id).await;
    world.tick().await;
    let subscription = subscription_id(world, &binding.id).await;
    (binding, subscription)
}
