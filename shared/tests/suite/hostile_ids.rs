//! Ids that would change a Graph URL's path (`.`, `..`, empty, percent-encoded slashes and dots):
//! refused where they come in (the webhook's notification items) and where URLs are built (the
//! Graph client, which answers an error and sends nothing, instead of dropping the segment and
//! addressing the list).
// Test code: a failed unwrap is a failed test (clippy.toml allows these only inside #[test] fns).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use tasksync::graph::GraphError;
use tasksync::webhook::{RejectReason, handle_request};

use crate::graph_support::Env;
use crate::webhook_support::*;

const PATH_CHANGING: &[&str] = &[".", "..", "", "a%2Fb", "%2e%2e", "x%5Cy"];

#[tokio::test]
async fn the_webhook_refuses_ids_that_would_change_a_graph_path() {
    for id in PATH_CHANGING {
        let deps = deps();
        // As resourceData.id, and as the last segment of the resource path.
        let mut by_data = change(SUB, SECRET, TENANT, "T-1");
        by_data["resourceData"]["id"] = json!(id);
        let mut by_resource = change(SUB, SECRET, TENANT, "T-1");
        by_resource["resource"] = json!(format!("Users/u-1/todo/Lists/L-1/Tasks/{id}"));
        by_resource.as_object_mut().unwrap().remove("resourceData");
        let handled = handle_request(
            post_notifications(&collection(vec![by_data, by_resource])),
            &deps,
        )
        .await;
        assert_eq!(handled.response.status(), 202, "{id:?}");
        assert!(
            deps.queue().all_hints().is_empty(),
            "{id:?} reached the queue"
        );
        assert_eq!(handled.counts.accepted, 0, "{id:?}: {:?}", handled.counts);
        assert_eq!(
            handled.counts.rejected(RejectReason::InvalidItem)
                + handled.counts.rejected(RejectReason::NotATodoTask),
            2,
            "{id:?}: {:?}",
            handled.counts
        );
    }
}

#[tokio::test]
async fn the_graph_client_refuses_them_without_a_request() {
    let env = Env::default().await;
    let client = env.client();
    let user = env.user();
    let list = env.new_todo_list(&client, "Ids").await;
    for id in PATH_CHANGING {
        let err = client.todo().get_task(&user, &list, id).await.unwrap_err();
        assert!(
            matches!(&err, GraphError::BadRequest { code, .. } if code == "invalidPathSegment"),
            "{id:?}: {err:?}"
        );
        let err = client.todo().get_task(&user, id, "T-1").await.unwrap_err();
        assert!(matches!(err, GraphError::BadRequest { .. }), "list {id:?}");
        let err = client.planner().get_task(id).await.unwrap_err();
        assert!(
            matches!(err, GraphError::BadRequest { .. }),
            "planner {id:?}"
        );
    }
    assert_eq!(
        client.counters().total("todo.get_task"),
        0,
        "nothing was sent"
    );
}
