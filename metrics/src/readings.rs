//! Values read at scrape time: a role implements [`Readings`] over state it keeps anyway (queue
//! lengths, Raft indexes, a scheduler's task counts) and writes them into a [`Readout`].

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;

/// A source of values read at every scrape.
pub trait Readings: std::fmt::Debug + Send + Sync + 'static {
    /// Writes the current values into `out`.
    fn read(&self, out: &mut Readout);
}

/// One metric family of a readout.
#[derive(Debug)]
struct Family {
    name: String,
    help: String,
    kind: MetricType,
    samples: Vec<(Vec<(String, String)>, f64)>,
}

/// What one scrape of a [`Readings`] found; samples of the same name form one family.
#[derive(Debug, Default)]
pub struct Readout {
    families: Vec<Family>,
}

impl Readout {
    /// A gauge sample `basalt_<name>{labels} value`.
    pub fn gauge(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        self.sample(name, help, MetricType::Gauge, labels, value);
    }

    /// A counter sample `basalt_<name>_total{labels} value` (a count the role keeps itself).
    pub fn counter(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        self.sample(name, help, MetricType::Counter, labels, value);
    }

    fn sample(&mut self, name: &str, help: &str, kind: MetricType, labels: &[(&str, &str)], value: f64) {
        let labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        match self.families.iter_mut().find(|f| f.name == name) {
            Some(f) => f.samples.push((labels, value)),
            None => self.families.push(Family {
                name: name.to_string(),
                help: help.to_string(),
                kind,
                samples: vec![(labels, value)],
            }),
        }
    }
}

/// The adapter that makes a [`Readings`] a prometheus-client collector.
#[derive(Debug)]
pub(crate) struct Collect<R>(pub R);

impl<R: Readings> Collector for Collect<R> {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut out = Readout::default();
        self.0.read(&mut out);
        for f in &out.families {
            let mut metric = encoder.encode_descriptor(&f.name, &f.help, None, f.kind)?;
            for (labels, value) in &f.samples {
                let mut sample = metric.encode_family(labels)?;
                match f.kind {
                    MetricType::Counter => sample.encode_counter::<NoLabelSet, _, u64>(value, None)?,
                    _ => sample.encode_gauge(value)?,
                }
            }
        }
        Ok(())
    }
}
