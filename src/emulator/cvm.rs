//! cvm 2017-03-12: a seeded fleet and the actions that read and change it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

use super::params::{Params, RawParams};
use super::reply::{ApiFailure, success_envelope};
use crate::RequestId;
use crate::date::utc_date;

/// The version of cvm the emulator answers.
pub(crate) const VERSION: &str = "2017-03-12";

/// The actions the emulator answers, with the parameters each knows.
const ACTIONS: &[(&str, &[&str])] = &[
    (
        "DescribeInstances",
        &["InstanceIds", "Filters", "Offset", "Limit"],
    ),
    ("DescribeRegions", &[]),
    ("DescribeZones", &[]),
    (
        "RunInstances",
        &[
            "Placement",
            "ImageId",
            "InstanceType",
            "InstanceChargeType",
            "InstanceCount",
            "InstanceName",
            "ClientToken",
            "DryRun",
            "SystemDisk",
            "DataDisks",
            "VirtualPrivateCloud",
            "InternetAccessible",
            "LoginSettings",
            "SecurityGroupIds",
            "HostName",
            "TagSpecification",
            "UserData",
        ],
    ),
    (
        "TerminateInstances",
        &[
            "InstanceIds",
            "DryRun",
            "ReleaseAddress",
            "ReleasePrepaidDataDisk",
        ],
    ),
];

/// (Region, RegionName) of the regions the emulator knows.
const REGIONS: &[(&str, &str)] = &[
    ("ap-guangzhou", "South China(Guangzhou)"),
    ("ap-shanghai", "East China(Shanghai)"),
    ("ap-beijing", "North China(Beijing)"),
    ("ap-chengdu", "Southwest China(Chengdu)"),
    (
        "ap-hongkong",
        "Hong Kong, Macau and Taiwan (China)(Hong Kong, China)",
    ),
    ("ap-singapore", "Southeast Asia(Singapore)"),
    ("na-siliconvalley", "West US(Silicon Valley)"),
    ("eu-frankfurt", "Europe(Frankfurt)"),
];

/// The region the seeded fleet lives in.
pub(crate) const FLEET_REGION: &str = "ap-guangzhou";

/// Whether cvm has `action` in the emulator.
pub(crate) fn is_action(action: &str) -> bool {
    ACTIONS.iter().any(|(name, _)| *name == action)
}

/// Zones are `{region}-1` .. `{region}-3`, with ids from the region's index.
fn zones(region: &str) -> impl Iterator<Item = Zone> + '_ {
    let index = REGIONS
        .iter()
        .position(|(name, _)| *name == region)
        .unwrap_or(0);
    let name = REGIONS.get(index).map_or(region, |(_, name)| name);
    (1..=3).map(move |n| Zone {
        zone: format!("{region}-{n}"),
        zone_name: format!("{name} Zone {n}"),
        zone_id: format!("{}", 100_000 * (index + 1) + n),
        zone_state: "AVAILABLE",
    })
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Instance {
    instance_id: String,
    instance_name: String,
    instance_type: &'static str,
    #[serde(rename = "CPU")]
    cpu: u32,
    memory: u32,
    instance_state: &'static str,
    placement: Placement,
    image_id: String,
    os_name: &'static str,
    private_ip_addresses: Vec<String>,
    public_ip_addresses: Vec<String>,
    instance_charge_type: String,
    created_time: String,
    uuid: String,
    tags: Vec<Value>,
    #[serde(skip)]
    region: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Placement {
    zone: String,
    project_id: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Zone {
    zone: String,
    zone_name: String,
    zone_id: String,
    zone_state: &'static str,
}

/// (InstanceType, CPU, Memory) the fleet is made of.
const INSTANCE_TYPES: &[(&str, u32, u32)] = &[
    ("S5.MEDIUM2", 2, 2),
    ("S5.MEDIUM4", 2, 4),
    ("S5.LARGE8", 4, 8),
    ("SA2.MEDIUM4", 2, 4),
];

const OS_NAMES: &[&str] = &[
    "TencentOS Server 3.1 (TK4)",
    "Ubuntu Server 22.04 LTS 64bit",
];

/// The instances of every region, and the answers given to ClientTokens.
pub(crate) struct Cvm {
    fleet: Mutex<Fleet>,
}

struct Fleet {
    /// Oldest first, the order DescribeInstances pages through.
    instances: Vec<Instance>,
    /// (SecretId, ClientToken) → the InstanceIdSet first answered.
    client_tokens: HashMap<(String, String), Vec<String>>,
    rng: fastrand::Rng,
    launched: u64,
}

/// What an action needs to know about its call.
pub(crate) struct CvmCall<'a> {
    pub(crate) action: &'a str,
    pub(crate) region: Option<&'a str>,
    pub(crate) secret_id: &'a str,
    pub(crate) request_id: &'a RequestId,
    /// Seconds since the Unix epoch, on the emulator's clock.
    pub(crate) now: u64,
}

impl Cvm {
    /// `instances` instances in [`FLEET_REGION`], the same for the same `seed`.
    pub(crate) fn seeded(instances: usize, seed: u64) -> Self {
        let mut fleet = Fleet {
            instances: Vec::with_capacity(instances),
            client_tokens: HashMap::new(),
            rng: fastrand::Rng::with_seed(seed),
            launched: 0,
        };
        // 2024-01-01T00:00:00Z, then one instance an hour.
        const FIRST_CREATED: u64 = 1_704_067_200;
        for index in 0..instances {
            let zone = format!("{FLEET_REGION}-{}", index % 3 + 1);
            fleet.launch(
                FLEET_REGION,
                zone,
                format!("emulator-{index:04}"),
                "img-eb30mz89".to_owned(),
                "POSTPAID_BY_HOUR".to_owned(),
                FIRST_CREATED + 3_600 * index as u64,
            );
        }
        Self {
            fleet: Mutex::new(fleet),
        }
    }

    /// Answers one action: the envelope of its success, or its error.
    pub(crate) fn call(&self, call: &CvmCall<'_>, raw: &RawParams) -> Result<Bytes, ApiFailure> {
        let known = ACTIONS
            .iter()
            .find(|(name, _)| *name == call.action)
            .map(|(_, known)| *known)
            .ok_or_else(|| {
                ApiFailure::new(
                    "InvalidAction",
                    format!(
                        "The action `{}` is not valid for this version.",
                        call.action
                    ),
                )
            })?;
        let params = Params::parse(raw, known)?;
        if call.action == "DescribeRegions" {
            return Ok(describe_regions(call));
        }
        let region = match call.region {
            Some(region) if REGIONS.iter().any(|(name, _)| *name == region) => region,
            Some(region) => {
                return Err(ApiFailure::new(
                    "UnsupportedRegion",
                    format!("The region `{region}` is not supported."),
                ));
            }
            None => return Err(ApiFailure::missing_parameter("Region")),
        };
        let mut fleet = self.fleet.lock().unwrap_or_else(PoisonError::into_inner);
        match call.action {
            "DescribeZones" => Ok(describe_zones(call, region)),
            "DescribeInstances" => fleet.describe_instances(call, region, &params),
            "RunInstances" => fleet.run_instances(call, region, &params),
            "TerminateInstances" => fleet.terminate_instances(call, region, &params),
            _ => unreachable!("every action in ACTIONS is answered"),
        }
    }
}

fn describe_regions(call: &CvmCall<'_>) -> Bytes {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Region {
        region: &'static str,
        region_name: &'static str,
        region_state: &'static str,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Answer {
        total_count: usize,
        region_set: Vec<Region>,
    }
    let region_set: Vec<_> = REGIONS
        .iter()
        .map(|(region, region_name)| Region {
            region,
            region_name,
            region_state: "AVAILABLE",
        })
        .collect();
    success_envelope(
        call.request_id,
        &Answer {
            total_count: region_set.len(),
            region_set,
        },
    )
}

fn describe_zones(call: &CvmCall<'_>, region: &str) -> Bytes {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Answer {
        total_count: usize,
        zone_set: Vec<Zone>,
    }
    let zone_set: Vec<_> = zones(region).collect();
    success_envelope(
        call.request_id,
        &Answer {
            total_count: zone_set.len(),
            zone_set,
        },
    )
}

fn dry_run_operation() -> ApiFailure {
    ApiFailure::new(
        "DryRunOperation",
        "DryRun Operation. It means that the request would have succeeded, \
         but the DryRun parameter was used.",
    )
}

fn check_instance_ids(ids: &[&str]) -> Result<(), ApiFailure> {
    let malformed: Vec<_> = ids
        .iter()
        .filter(|id| {
            !id.strip_prefix("ins-").is_some_and(|rest| {
                rest.len() == 8
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
        })
        .collect();
    if malformed.is_empty() {
        Ok(())
    } else {
        Err(ApiFailure::new(
            "InvalidInstanceId.Malformed",
            format!("The instance ids {malformed:?} are malformed."),
        ))
    }
}

/// Seconds since the epoch as `2024-01-01T00:00:00Z`.
fn iso8601(timestamp: u64) -> String {
    let seconds = timestamp % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        utc_date(timestamp),
        seconds / 3_600,
        seconds % 3_600 / 60,
        seconds % 60
    )
}

impl Fleet {
    fn launch(
        &mut self,
        region: &str,
        zone: String,
        name: String,
        image_id: String,
        charge_type: String,
        created: u64,
    ) -> String {
        const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        let suffix: String = (0..8)
            .map(|_| char::from(ALPHABET[self.rng.usize(..ALPHABET.len())]))
            .collect();
        let instance_id = format!("ins-{suffix}");
        let serial = self.launched;
        self.launched += 1;
        let (instance_type, cpu, memory) = INSTANCE_TYPES[serial as usize % INSTANCE_TYPES.len()];
        let uuid = hex::encode(self.rng.u128(..).to_be_bytes());
        self.instances.push(Instance {
            instance_id: instance_id.clone(),
            instance_name: name,
            instance_type,
            cpu,
            memory,
            instance_state: "RUNNING",
            placement: Placement {
                zone,
                project_id: 0,
            },
            image_id,
            os_name: OS_NAMES[serial as usize % OS_NAMES.len()],
            private_ip_addresses: vec![format!(
                "10.{}.{}.{}",
                serial / 65_536 % 256,
                serial / 256 % 256,
                serial % 256
            )],
            public_ip_addresses: Vec::new(),
            instance_charge_type: charge_type,
            created_time: iso8601(created),
            uuid: format!(
                "{}-{}-{}-{}-{}",
                &uuid[0..8],
                &uuid[8..12],
                &uuid[12..16],
                &uuid[16..20],
                &uuid[20..32]
            ),
            tags: Vec::new(),
            region: region.to_owned(),
        });
        instance_id
    }

    fn describe_instances(
        &self,
        call: &CvmCall<'_>,
        region: &str,
        params: &Params,
    ) -> Result<Bytes, ApiFailure> {
        let ids = params.strings("InstanceIds", 100)?;
        if let Some(ids) = &ids {
            check_instance_ids(ids)?;
        }
        let filters = Filters::parse(params)?;
        let offset = params.integer("Offset", 0, 0, u64::from(u32::MAX))? as usize;
        let limit = params.integer("Limit", 20, 0, 100)? as usize;

        let matching: Vec<&Instance> = self
            .instances
            .iter()
            .filter(|instance| instance.region == region)
            .filter(|instance| {
                ids.as_ref()
                    .is_none_or(|ids| ids.contains(&instance.instance_id.as_str()))
            })
            .filter(|instance| filters.matches(instance))
            .collect();

        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Answer<'a> {
            total_count: usize,
            instance_set: Vec<&'a Instance>,
        }
        let answer = Answer {
            total_count: matching.len(),
            instance_set: matching.into_iter().skip(offset).take(limit).collect(),
        };
        Ok(success_envelope(call.request_id, &answer))
    }

    fn run_instances(
        &mut self,
        call: &CvmCall<'_>,
        region: &str,
        params: &Params,
    ) -> Result<Bytes, ApiFailure> {
        let zone = params
            .nested_string("Placement", "Zone")?
            .ok_or_else(|| ApiFailure::missing_parameter("Placement.Zone"))?;
        if !zones(region).any(|known| known.zone == zone) {
            return Err(ApiFailure::new(
                "InvalidZone.MismatchRegion",
                format!("The zone `{zone}` is not in the region `{region}`."),
            ));
        }
        let image_id = params.required_string("ImageId")?;
        if !image_id.starts_with("img-") {
            return Err(ApiFailure::new(
                "InvalidImageId.Malformed",
                format!("The image id `{image_id}` is malformed."),
            ));
        }
        let count = params.integer("InstanceCount", 1, 1, 100)?;
        let name = params.string("InstanceName")?.unwrap_or("Unnamed");
        let charge_type = params
            .string("InstanceChargeType")?
            .unwrap_or("POSTPAID_BY_HOUR");
        let client_token = params.string("ClientToken")?;
        if let Some(token) = client_token
            && token.len() > 64
        {
            return Err(ApiFailure::invalid_parameter_value(
                "ClientToken",
                "longer than 64 characters",
            ));
        }
        if params.dry_run()? {
            return Err(dry_run_operation());
        }

        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Answer<'a> {
            instance_id_set: &'a [String],
        }
        // The same token from the same account answers what it answered
        // first, launching nothing: a replayed purchase stays one purchase.
        let token_key = client_token.map(|token| (call.secret_id.to_owned(), token.to_owned()));
        if let Some(ids) = token_key
            .as_ref()
            .and_then(|key| self.client_tokens.get(key))
        {
            return Ok(success_envelope(
                call.request_id,
                &Answer {
                    instance_id_set: ids,
                },
            ));
        }
        let ids: Vec<String> = (0..count)
            .map(|_| {
                self.launch(
                    region,
                    zone.to_owned(),
                    name.to_owned(),
                    image_id.to_owned(),
                    charge_type.to_owned(),
                    call.now,
                )
            })
            .collect();
        let answer = success_envelope(
            call.request_id,
            &Answer {
                instance_id_set: &ids,
            },
        );
        if let Some(key) = token_key {
            self.client_tokens.insert(key, ids);
        }
        Ok(answer)
    }

    fn terminate_instances(
        &mut self,
        call: &CvmCall<'_>,
        region: &str,
        params: &Params,
    ) -> Result<Bytes, ApiFailure> {
        let ids = params
            .strings("InstanceIds", 100)?
            .filter(|ids| !ids.is_empty())
            .ok_or_else(|| ApiFailure::missing_parameter("InstanceIds"))?;
        check_instance_ids(&ids)?;
        let missing: Vec<_> = ids
            .iter()
            .filter(|id| {
                !self
                    .instances
                    .iter()
                    .any(|instance| instance.region == region && instance.instance_id == **id)
            })
            .collect();
        if !missing.is_empty() {
            return Err(ApiFailure::new(
                "InvalidInstanceId.NotFound",
                format!("The instances {missing:?} do not exist."),
            ));
        }
        if params.dry_run()? {
            return Err(dry_run_operation());
        }
        self.instances.retain(|instance| {
            instance.region != region || !ids.contains(&instance.instance_id.as_str())
        });
        #[derive(Serialize)]
        struct Answer {}
        Ok(success_envelope(call.request_id, &Answer {}))
    }
}

/// The `Filters` of DescribeInstances the emulator knows: `zone`,
/// `instance-state`, `instance-name`, `instance-type`.
struct Filters(Vec<(String, Vec<String>)>);

impl Filters {
    fn parse(params: &Params) -> Result<Self, ApiFailure> {
        let Some(filters) = params.get("Filters") else {
            return Ok(Self(Vec::new()));
        };
        let invalid = || {
            ApiFailure::invalid_parameter_value("Filters", "not a list of {Name, Values} objects")
        };
        let filters = filters.as_array().ok_or_else(invalid)?;
        let mut parsed = Vec::with_capacity(filters.len());
        for filter in filters {
            let name = filter
                .get("Name")
                .and_then(Value::as_str)
                .ok_or_else(invalid)?;
            if !["zone", "instance-state", "instance-name", "instance-type"].contains(&name) {
                return Err(ApiFailure::new(
                    "InvalidFilter",
                    format!("The filter `{name}` is not supported."),
                ));
            }
            let values = filter
                .get("Values")
                .and_then(Value::as_array)
                .ok_or_else(invalid)?
                .iter()
                .map(|value| value.as_str().map(str::to_owned).ok_or_else(invalid))
                .collect::<Result<_, _>>()?;
            parsed.push((name.to_owned(), values));
        }
        Ok(Self(parsed))
    }

    fn matches(&self, instance: &Instance) -> bool {
        self.0.iter().all(|(name, values)| {
            let field = match name.as_str() {
                "zone" => instance.placement.zone.as_str(),
                "instance-state" => instance.instance_state,
                "instance-name" => instance.instance_name.as_str(),
                _ => instance.instance_type,
            };
            values.iter().any(|value| value == field)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_dates() {
        assert_eq!(iso8601(1_704_067_200), "2024-01-01T00:00:00Z");
        assert_eq!(iso8601(1_704_067_200 + 3_723), "2024-01-01T01:02:03Z");
    }

    #[test]
    fn the_same_seed_seeds_the_same_fleet() {
        let ids = |cvm: &Cvm| {
            cvm.fleet
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .instances
                .iter()
                .map(|instance| instance.instance_id.clone())
                .collect::<Vec<_>>()
        };
        let (a, b, c) = (Cvm::seeded(5, 1), Cvm::seeded(5, 1), Cvm::seeded(5, 2));
        assert_eq!(ids(&a), ids(&b));
        assert_ne!(ids(&a), ids(&c));
        assert!(
            check_instance_ids(&ids(&a).iter().map(String::as_str).collect::<Vec<_>>()).is_ok()
        );
    }
}
