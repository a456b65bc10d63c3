//! YAML to JSON, with CloudFormation's short intrinsic tags turned into their long forms.

use serde_json::Value as Json;

pub(super) fn yaml_to_json(value: serde_yaml_ng::Value) -> Json {
    use serde_yaml_ng::Value as Y;
    match value {
        Y::Null => Json::Null,
        Y::Bool(b) => Json::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Json::from(i)
            } else if let Some(u) = n.as_u64() {
                Json::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Json::Null, Json::Number)
            }
        }
        Y::String(s) => Json::String(s),
        Y::Sequence(items) => Json::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| (yaml_key(k), yaml_to_json(v)))
                .collect(),
        ),
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!').to_owned();
            let inner = yaml_to_json(tagged.value);
            let (key, inner) = match name.as_str() {
                "Ref" | "Condition" => (name, inner),
                // `!GetAtt A.B` is the short form of `Fn::GetAtt: [A, B]`.
                "GetAtt" => match inner {
                    Json::String(s) => {
                        let parts = match s.split_once('.') {
                            Some((resource, attribute)) => vec![resource.into(), attribute.into()],
                            None => vec![Json::String(s)],
                        };
                        ("Fn::GetAtt".to_owned(), Json::Array(parts))
                    }
                    other => ("Fn::GetAtt".to_owned(), other),
                },
                _ => (format!("Fn::{name}"), inner),
            };
            let mut map = serde_json::Map::new();
            map.insert(key, inner);
            Json::Object(map)
        }
    }
}

fn yaml_key(key: serde_yaml_ng::Value) -> String {
    match key {
        serde_yaml_ng::Value::String(s) => s,
        other => match yaml_to_json(other) {
            Json::String(s) => s,
            json => json.to_string(),
        },
    }
}
