//! `tasksync local`: the deployed shape on one machine. The same handlers as in AWS, wired as
//! AWS wires them: the webhook served over HTTP on a fixed port as API Gateway invokes it, the
//! worker fed SQS events from the real work queue as the event source mapping does, the tasks
//! table's real DynamoDB stream turned into the pipe's hints, the scheduler on its schedule with
//! the worker's subscription hints handed to it. Tables and queues are template.yaml's, on moto
//! (started here), another endpoint, or real AWS; Graph is the emulator or a real tenant.

mod aws_side;
mod env_lines;
mod examples;
mod graph_side;
mod loops;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use tasksync::scheduler::SchedulerSettings;
use tasksync::standalone::dynamodb_stream::StreamReader;
use tasksync::standalone::emulator_stack::serve_webhook_on;
use tasksync::standalone::stream_forwarder::PipeForwarder;
use tasksync::webhook::{MetricsSink, WebhookDeps, WebhookSettings};

pub use aws_side::AwsChoice;
pub use env_lines::READY_LINE;

use super::LocalRunError;
use aws_side::AwsSide;
use graph_side::GraphSide;
use loops::Functions;

/// Which Graph the local system talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphChoice {
    /// The Graph emulator, started here.
    Emulator,
    /// A real Microsoft 365 tenant: GRAPH_TENANT_ID, GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET.
    Tenant,
}

/// How the local system is started (the command line, checked).
#[derive(Debug, Clone)]
pub struct SystemOptions {
    pub port: u16,
    pub aws: AwsChoice,
    pub graph: GraphChoice,
    pub graph_port: u16,
    pub public_url: Option<String>,
    pub tick: Duration,
    pub examples: bool,
}

/// Starts everything, prints the environment, and serves until Ctrl-C (SIGINT) or SIGTERM;
/// then stops everything it started, moto included.
pub async fn run(options: SystemOptions) -> Result<(), LocalRunError> {
    let mut err = std::io::stderr();
    writeln!(err, "tasksync local: the deployed shape on this machine")?;
    let aws = AwsSide::start(&options.aws).await?;
    let graph = match options.graph {
        GraphChoice::Emulator => GraphSide::emulator(options.graph_port).await?,
        GraphChoice::Tenant => GraphSide::tenant(&aws.deployment.aws).await?,
    };
    let result = serve(&options, &aws, &graph, &mut err).await;
    graph.shutdown();
    if let Some(moto) = &aws.moto {
        moto.stop();
        writeln!(err, "stopped moto (pid {}) and everything else", moto.pid())?;
    }
    result
}

async fn serve(
    options: &SystemOptions,
    aws: &AwsSide,
    graph: &GraphSide,
    err: &mut impl Write,
) -> Result<(), LocalRunError> {
    let deployment = &aws.deployment;
    let (sync, tasks, queue) = (
        deployment.sync_store(),
        deployment.task_store(),
        deployment.hint_queue(),
    );
    // The webhook function, served as API Gateway invokes it.
    let webhook_deps = WebhookDeps::new(
        sync.clone(),
        queue.clone(),
        WebhookSettings {
            expected_tenant_id: Some(graph.tenant_id.clone()),
            ..WebhookSettings::default()
        },
    )
    .with_metrics(MetricsSink::Discard);
    let webhook = serve_webhook_on(
        &format!("127.0.0.1:{}", options.port),
        Arc::new(webhook_deps),
    )
    .await?;
    let webhook_base = options
        .public_url
        .clone()
        .unwrap_or_else(|| webhook.base_url())
        .trim_end_matches('/')
        .to_owned();
    let functions = Functions {
        sync: sync.clone(),
        tasks,
        queue: queue.clone(),
        graph: graph.graph.clone(),
        scheduler: scheduler_settings(options, &webhook_base, &graph.tenant_id),
    };

    describe(options, aws, graph, &webhook_base, err)?;
    let examples = match (options.examples, graph.control()) {
        (true, Some(control)) => {
            let user = graph
                .emulator
                .as_ref()
                .map(|e| e.state.config.user_id.clone())
                .unwrap_or_default();
            let made = examples::create(&control, &user, &sync).await?;
            writeln!(
                err,
                "  examples    local list team <-> To Do list \"{}\" ({}), local list ops <-> \
                 Planner plan \"{}\" ({})",
                examples::TODO_LIST_NAME,
                made.todo_list_id,
                examples::PLAN_TITLE,
                made.plan_id
            )?;
            Some(made)
        }
        _ => None,
    };
    // The first scheduler run, before anything else: it enrolls the bindings and gives each
    // To Do list its subscription, so the system is fully wired once it says it is ready.
    let first = functions.tick().await;
    writeln!(
        err,
        "  first tick  {} binding(s) enrolled, {} subscription(s) created, {} swept",
        first.bindings_enrolled, first.subscriptions_created, first.bindings_swept
    )?;

    let mut running = tokio::task::JoinSet::new();
    running.spawn(loops::worker_loop(functions.clone()));
    running.spawn(loops::scheduler_loop(functions.clone(), options.tick));
    if let (Some(endpoint), Some(arn)) = (&aws.endpoint, &aws.stream_arn) {
        let reader = StreamReader::open(endpoint, arn).await?;
        let pipe = PipeForwarder::from_embedded_template()?;
        running.spawn(loops::stream_loop(reader, pipe, queue.clone()));
    }

    let vars = env_lines::env_vars(aws, graph, &webhook_base);
    // The example bindings' remote ids, for scripts that act as a person on them.
    let mut notes: Vec<String> = aws
        .moto
        .iter()
        .map(|moto| format!("moto: pid {} (stopped with tasksync local)", moto.pid()))
        .collect();
    notes.extend(examples.iter().flat_map(|made| {
        [
            format!(
                "example binding: team <-> To Do list \"{}\" {}",
                examples::TODO_LIST_NAME,
                made.todo_list_id
            ),
            format!(
                "example binding: ops <-> Planner plan \"{}\" {}",
                examples::PLAN_TITLE,
                made.plan_id
            ),
        ]
    }));
    writeln!(err)?;
    // Shown here too when standard output goes to a file or a pipe, so the terminal has it.
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        writeln!(err, "The environment (on standard output):")?;
        let mut shown = Vec::new();
        env_lines::print_exports(&vars, &notes, &mut shown)?;
        err.write_all(&shown)?;
    } else {
        env_lines::print_exports(&vars, &notes, &mut std::io::stdout())?;
    }
    writeln!(err)?;
    writeln!(
        err,
        "An agent writes a task (AWS CLI, with that environment):"
    )?;
    writeln!(
        err,
        "  {}",
        env_lines::put_item_example(super::demo::TODO_LIST)
    )?;
    if let Some(made) = &examples {
        writeln!(
            err,
            "A person adds a task in To Do \"{}\" (user {}):",
            examples::TODO_LIST_NAME,
            made.user_id
        )?;
        writeln!(err, "  {}", env_lines::person_example(&made.todo_list_id))?;
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        env_lines::print_exports(&vars, &notes, &mut std::io::stdout())?;
    }

    wait_for_stop().await;
    writeln!(err, "stopping…")?;
    running.abort_all();
    while running.join_next().await.is_some() {}
    drop(webhook);
    Ok(())
}

/// The deployment's scheduler settings, with every Planner plan swept on every tick (a local
/// run has a handful of plans and a short `--tick` should show a person's Planner edit soon),
/// and To Do swept by delta on every tick when Graph cannot reach the webhook.
fn scheduler_settings(
    options: &SystemOptions,
    webhook_base: &str,
    tenant: &str,
) -> SchedulerSettings {
    // Half a tick: a sweep done a moment after one tick is due again at the next.
    let tick = chrono::Duration::from_std(options.tick / 2).unwrap_or(chrono::Duration::minutes(1));
    let mut settings = SchedulerSettings::for_deployment(webhook_base, tenant);
    settings.busy_interval = tick;
    settings.ordinary_interval = tick;
    settings.idle_interval = tick;
    if graph_cannot_reach_webhook(options) {
        settings.todo_safety_net_interval = tick;
    }
    settings
}

fn graph_cannot_reach_webhook(options: &SystemOptions) -> bool {
    options.graph == GraphChoice::Tenant && options.public_url.is_none()
}

/// What runs where, on standard error.
fn describe(
    options: &SystemOptions,
    aws: &AwsSide,
    graph: &GraphSide,
    webhook_base: &str,
    err: &mut impl Write,
) -> std::io::Result<()> {
    let resources = &aws.deployment.resources;
    match (&aws.moto, &aws.endpoint) {
        (Some(moto), _) => writeln!(
            err,
            "  AWS         moto {} at {} (pid {}), in memory: a restart starts empty",
            tasksync::standalone::moto::MOTO_VERSION,
            moto.endpoint(),
            moto.pid()
        )?,
        (None, Some(endpoint)) => writeln!(err, "  AWS         the endpoint {endpoint}")?,
        (None, None) => writeln!(err, "  AWS         real AWS ({})", aws.region())?,
    }
    writeln!(
        err,
        "  tables      {} and {} (template.yaml), queue {}",
        resources.tasks_table, resources.sync_table, resources.work_queue_url
    )?;
    match graph.emulator_url() {
        Some(url) => writeln!(
            err,
            "  Graph       emulator at {url}; control API {url}/_emulator"
        )?,
        None => writeln!(
            err,
            "  Graph       tenant {} as client {}",
            graph.tenant_id, graph.client_id
        )?,
    }
    writeln!(
        err,
        "  webhook     {webhook_base}/notifications (served on 127.0.0.1:{})",
        options.port
    )?;
    writeln!(
        err,
        "  worker      consuming the work queue (SQS event shape)"
    )?;
    if aws.endpoint.is_some() {
        writeln!(
            err,
            "  pipe        reading the tasks table's DynamoDB stream"
        )?;
    } else {
        writeln!(
            err,
            "  pipe        not run here: in AWS the stack's own pipe reads the stream"
        )?;
    }
    writeln!(
        err,
        "  scheduler   every {:?}, each plan swept every tick",
        options.tick
    )?;
    if graph_cannot_reach_webhook(options) {
        writeln!(
            err,
            "  To Do       no --public-url: Graph cannot reach the webhook, so To Do is swept by \
             delta every {:?} instead of notified",
            options.tick
        )?;
    }
    Ok(())
}

/// Ctrl-C (SIGINT) or SIGTERM.
async fn wait_for_stop() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}
