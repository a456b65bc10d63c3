//! The operator's binding ports against the adapter contract: in memory, and on moto with the
//! sync table created from template.yaml.

use tasksync::store::{DynamoSyncStore, MemoryStore};
use testkit::adapter_contract::binding_admin_contract;
use testkit::aws::provisioned;

#[tokio::test]
async fn memory_binding_admin_meets_the_contract() {
    binding_admin_contract(&MemoryStore::new()).await;
}

#[tokio::test]
async fn dynamo_binding_admin_meets_the_contract() {
    let aws = provisioned().await.unwrap();
    let store = DynamoSyncStore::new(aws.dynamodb.clone(), aws.resources.sync_table());
    binding_admin_contract(&store).await;
}
