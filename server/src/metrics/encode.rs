//! The few pieces of the exposition `prometheus-client` leaves to its user
//! when a collector encodes values it did not count itself: one family
//! written from a list of samples, label values escaped, whole numbers
//! written as integers, and a cumulative millisecond histogram as the
//! crate's per-bucket seconds.

use std::fmt::{self, Write};

use prometheus_client::encoding::{
    CounterValueEncoder, DescriptorEncoder, EncodeCounterValue, EncodeGaugeValue, EncodeLabelValue,
    GaugeValueEncoder, LabelValueEncoder, NoLabelSet,
};
use prometheus_client::metrics::MetricType;

/// A label value, escaped as the text format requires (backslash, double
/// quote, newline): the crate writes label values as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Label<'a>(pub &'a str);

impl EncodeLabelValue for Label<'_> {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['\\', '"', '\n']) {
            encoder.write_str(&rest[..at])?;
            encoder.write_str(match rest.as_bytes()[at] {
                b'\\' => r"\\",
                b'"' => r#"\""#,
                _ => r"\n",
            })?;
            rest = &rest[at + 1..];
        }
        encoder.write_str(rest)
    }
}

/// A sample's value: an integer when it is a whole number (`1`, as the Go
/// client writes it), else the crate's float spelling (`0.25`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number(pub f64);

impl Number {
    /// Whole numbers within the exact range of an `f64`.
    fn whole(self) -> Option<i64> {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        (self.0.fract() == 0.0 && self.0.abs() < EXACT).then_some(self.0 as i64)
    }
}

impl EncodeGaugeValue for Number {
    fn encode(&self, encoder: &mut GaugeValueEncoder) -> fmt::Result {
        match self.whole() {
            Some(n) => EncodeGaugeValue::encode(&n, encoder),
            None => EncodeGaugeValue::encode(&self.0, encoder),
        }
    }
}

impl EncodeCounterValue for Number {
    fn encode(&self, encoder: &mut CounterValueEncoder) -> fmt::Result {
        match self.whole().and_then(|n| u64::try_from(n).ok()) {
            Some(n) => EncodeCounterValue::encode(&n, encoder),
            None => EncodeCounterValue::encode(&self.0, encoder),
        }
    }
}

/// One sample's labels: (name, value) pairs, in the order written.
pub type Labels<'a> = Vec<(&'static str, Label<'a>)>;

/// One gauge family with the given samples.
pub fn gauge<'a>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (Labels<'a>, f64)>,
) -> fmt::Result {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in samples {
        if labels.is_empty() {
            family.encode_gauge(&Number(value))?;
        } else {
            family
                .encode_family(&labels.as_slice())?
                .encode_gauge(&Number(value))?;
        }
    }
    Ok(())
}

/// One counter family with the given samples. `name` is the samples' name,
/// `_total` included (as the rules and dashboards spell it); the family's
/// `# TYPE` line names it without, as OpenMetrics wants.
pub fn counter<'a>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (Labels<'a>, f64)>,
) -> fmt::Result {
    debug_assert!(name.ends_with("_total"), "{name}: a counter ends in _total");
    let family_name = name.strip_suffix("_total").unwrap_or(name);
    let mut family = encoder.encode_descriptor(family_name, help, None, MetricType::Counter)?;
    for (labels, value) in samples {
        if labels.is_empty() {
            family.encode_counter::<NoLabelSet, _, f64>(&Number(value), None)?;
        } else {
            family
                .encode_family(&labels.as_slice())?
                .encode_counter::<NoLabelSet, _, f64>(&Number(value), None)?;
        }
    }
    Ok(())
}

/// A histogram the runtime keeps in milliseconds, with cumulative buckets
/// (`+Inf` may be among them or not).
#[derive(Debug, Clone, Copy)]
pub struct MsHistogram<'a> {
    pub buckets_ms: &'a [(f64, u64)],
    pub count: u64,
    pub sum_ms: f64,
}

impl MsHistogram<'_> {
    /// The crate's form: upper bounds in seconds with the count of each
    /// bucket alone (the encoder adds them up), `+Inf` as `f64::MAX`,
    /// always last.
    pub fn buckets_s(&self) -> Vec<(f64, u64)> {
        let mut out = Vec::with_capacity(self.buckets_ms.len() + 1);
        let mut below = 0u64;
        let mut saw_inf = false;
        for (le_ms, cumulative) in self.buckets_ms {
            let le = if le_ms.is_infinite() {
                saw_inf = true;
                f64::MAX
            } else {
                le_ms / 1000.0
            };
            out.push((le, cumulative.saturating_sub(below)));
            below = below.max(*cumulative);
        }
        if !saw_inf {
            out.push((f64::MAX, self.count.saturating_sub(below)));
        }
        out
    }
}

/// One histogram family with the given samples, in seconds.
pub fn histogram<'a>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (Labels<'a>, MsHistogram<'a>)>,
) -> fmt::Result {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Histogram)?;
    for (labels, h) in samples {
        let buckets = h.buckets_s();
        let sum = h.sum_ms / 1000.0;
        if labels.is_empty() {
            family.encode_histogram::<NoLabelSet>(sum, h.count, &buckets, None)?;
        } else {
            family
                .encode_family(&labels.as_slice())?
                .encode_histogram::<NoLabelSet>(sum, h.count, &buckets, None)?;
        }
    }
    Ok(())
}

/// A collector made of a function, for the families' tests.
#[cfg(test)]
pub struct FnCollector<F>(pub F);

#[cfg(test)]
impl<F> std::fmt::Debug for FnCollector<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnCollector")
    }
}

#[cfg(test)]
impl<F> prometheus_client::collector::Collector for FnCollector<F>
where
    F: Fn(&mut DescriptorEncoder) -> fmt::Result + Send + Sync + 'static,
{
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        (self.0)(&mut encoder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::collected;

    #[test]
    fn label_values_are_escaped_and_whole_numbers_are_integers() {
        let text = collected(FnCollector(|e: &mut DescriptorEncoder| {
            gauge(
                e,
                "wayfare_test",
                "A test.",
                [
                    (vec![("name", Label("a\"b\\c\nd"))], 2.0),
                    (vec![("name", Label("plain"))], 0.25),
                    (Vec::new(), -3.0),
                ],
            )
        }))
        .expect("encodes");
        for line in [
            r#"wayfare_test{name="a\"b\\c\nd"} 2"#,
            r#"wayfare_test{name="plain"} 0.25"#,
            "wayfare_test -3",
            "# TYPE wayfare_test gauge",
            "# EOF",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn a_counter_family_is_named_without_total_and_its_samples_with() {
        let text = collected(FnCollector(|e: &mut DescriptorEncoder| {
            counter(
                e,
                "wayfare_things_total",
                "Things.",
                [(vec![("kind", Label("a"))], 3.0), (vec![], 0.5)],
            )
        }))
        .expect("encodes");
        assert!(text.contains("# TYPE wayfare_things counter\n"), "{text}");
        assert!(
            text.contains("\nwayfare_things_total{kind=\"a\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("\nwayfare_things_total 0.5\n"), "{text}");
    }

    #[test]
    fn cumulative_millisecond_buckets_become_per_bucket_seconds_with_inf_last() {
        let with_inf = MsHistogram {
            buckets_ms: &[(5.0, 6), (10.0, 10), (f64::INFINITY, 12)],
            count: 12,
            sum_ms: 80.0,
        };
        assert_eq!(
            with_inf.buckets_s(),
            vec![(0.005, 6), (0.01, 4), (f64::MAX, 2)]
        );
        let without_inf = MsHistogram {
            buckets_ms: &[(250.0, 2), (500.0, 3)],
            count: 4,
            sum_ms: 1500.0,
        };
        assert_eq!(
            without_inf.buckets_s(),
            vec![(0.25, 2), (0.5, 1), (f64::MAX, 1)]
        );
        let text = collected(FnCollector(move |e: &mut DescriptorEncoder| {
            histogram(e, "wayfare_h_seconds", "H.", [(Vec::new(), without_inf)])
        }))
        .expect("encodes");
        for line in [
            r#"wayfare_h_seconds_bucket{le="0.25"} 2"#,
            r#"wayfare_h_seconds_bucket{le="0.5"} 3"#,
            r#"wayfare_h_seconds_bucket{le="+Inf"} 4"#,
            "wayfare_h_seconds_sum 1.5",
            "wayfare_h_seconds_count 4",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }
}
