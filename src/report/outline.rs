//! The report laid out as sections of neutral blocks, rendered by both the
//! HTML and the Markdown writers (so the two always say the same).

use crate::pipeline::fmt_probability;
use crate::report::document::Report;
use crate::risk::RiskAnalysis;

/// The report's sections: anchor id and title, in order.
pub const SECTIONS: [(&str, &str); 12] = [
    ("summary", "1. Summary and verdict"),
    ("data", "2. The data"),
    (
        "context",
        "3. Context: recipients, threat model, population",
    ),
    ("methods", "4. Methods"),
    ("results", "5. Results"),
    ("risk", "6. Re-identification risk before and after"),
    ("scan", "7. Residual-identifier scan"),
    ("limitations", "8. Limitations and residual risks"),
    ("release", "9. Conditions of release and re-assessment"),
    ("audit", "10. Audit trail"),
    ("sign-off", "11. Expert attestation and sign-off"),
    ("verification", "12. Verifying this report"),
];

/// A block of content.
pub(crate) enum Block {
    /// A paragraph of text.
    Paragraph(String),
    /// A bulleted list.
    List(Vec<String>),
    /// A table: header and rows.
    Table(Vec<String>, Vec<Vec<String>>),
    /// A chart: the SVG for HTML, and its data as a table for Markdown.
    Chart {
        svg: String,
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// Blank lines to sign on (label → value or blank).
    Signature(Vec<(String, Option<String>)>),
}

/// A section.
pub(crate) struct Section {
    pub id: &'static str,
    pub title: &'static str,
    pub blocks: Vec<Block>,
}

fn opt(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "—".to_owned())
}

fn p(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), fmt_probability)
}

/// Class-size bins for the charts: (label, lowest size, highest size).
const SIZE_BINS: [(&str, u64, u64); 8] = [
    ("1", 1, 1),
    ("2", 2, 2),
    ("3-4", 3, 4),
    ("5-9", 5, 9),
    ("10-19", 10, 19),
    ("20-49", 20, 49),
    ("50-99", 50, 99),
    ("100+", 100, u64::MAX),
];

/// The records in `classes` classes of `size` (as a float: a report read
/// from a file may hold any sizes).
fn records(&(size, classes): &(u64, u64)) -> f64 {
    size as f64 * classes as f64
}

/// The fraction of released records in classes of each size bin.
fn size_distribution(analysis: &RiskAnalysis) -> Vec<f64> {
    let total: f64 = analysis.class_sizes.iter().map(records).sum();
    SIZE_BINS
        .iter()
        .map(|&(_, lo, hi)| {
            let within: f64 = analysis
                .class_sizes
                .iter()
                .filter(|(s, _)| (lo..=hi).contains(s))
                .map(records)
                .sum();
            within / total.max(1.0)
        })
        .collect()
}

/// Prosecutor risk bins (1/class size): (label, lowest risk exclusive, highest inclusive).
const RISK_BINS: [(&str, f64, f64); 7] = [
    ("(0.5, 1]", 0.5, 1.0),
    ("(0.2, 0.5]", 0.2, 0.5),
    ("(0.1, 0.2]", 0.1, 0.2),
    ("(0.05, 0.1]", 0.05, 0.1),
    ("(0.02, 0.05]", 0.02, 0.05),
    ("(0.01, 0.02]", 0.01, 0.02),
    ("≤ 0.01", 0.0, 0.01),
];

/// The fraction of released records in each individual (prosecutor) risk bin.
fn risk_distribution(analysis: &RiskAnalysis) -> Vec<f64> {
    let total: f64 = analysis.class_sizes.iter().map(records).sum();
    RISK_BINS
        .iter()
        .map(|&(_, lo, hi)| {
            let within: f64 = analysis
                .class_sizes
                .iter()
                .filter(|(s, _)| {
                    let r = 1.0 / *s as f64;
                    r > lo && r <= hi
                })
                .map(records)
                .sum();
            within / total.max(1.0)
        })
        .collect()
}

fn detector_name(detector: &crate::safe_harbor::Detector) -> String {
    serde_json::to_value(detector)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn percent(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

fn before_after_chart(
    title: &str,
    x_label: &str,
    labels: Vec<String>,
    before: Vec<f64>,
    after: Option<Vec<f64>>,
) -> Block {
    let mut series = vec![crate::report::svg::Series {
        name: "before",
        color: "#e45756",
        values: before.clone(),
    }];
    if let Some(after) = &after {
        series.push(crate::report::svg::Series {
            name: "after",
            color: "#4c78a8",
            values: after.clone(),
        });
    }
    let svg = crate::report::svg::grouped_bars(title, x_label, &labels, &series);
    let rows = labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            vec![
                label.clone(),
                percent(before[i]),
                after
                    .as_ref()
                    .map_or_else(|| "—".to_owned(), |a| percent(a[i])),
            ]
        })
        .collect();
    Block::Chart {
        svg,
        header: vec![
            x_label.to_owned(),
            "records before".to_owned(),
            "records after".to_owned(),
        ],
        rows,
    }
}

/// Lays out `report`.
pub(crate) fn outline(report: &Report) -> Vec<Section> {
    let r = report;
    let mut sections = Vec::new();
    let mut push = |index: usize, blocks: Vec<Block>| {
        sections.push(Section {
            id: SECTIONS[index].0,
            title: SECTIONS[index].1,
            blocks,
        });
    };

    // 1. Summary.
    let mut summary = vec![Block::Paragraph(format!(
        "Verdict: {} — {}",
        if r.summary.passes {
            "MEETS ALL THRESHOLDS"
        } else {
            "DOES NOT MEET THE THRESHOLDS"
        },
        r.summary.verdict
    ))];
    if !r.summary.failures.is_empty() {
        summary.push(Block::List(r.summary.failures.clone()));
    }
    summary.push(Block::Table(
        vec!["Figure".to_owned(), "Value".to_owned()],
        r.summary
            .figures
            .iter()
            .map(|(k, v)| vec![k.clone(), v.clone()])
            .collect(),
    ));
    summary.push(Block::Table(
        vec!["Report".to_owned(), "".to_owned()],
        vec![
            vec!["Title".to_owned(), r.identification.title.clone()],
            vec!["Report id".to_owned(), r.identification.report_id.clone()],
            vec![
                "Created (UTC)".to_owned(),
                r.identification.created_utc.clone(),
            ],
            vec!["Software".to_owned(), r.identification.software.clone()],
            vec![
                "Covered entity".to_owned(),
                opt(&r.identification.covered_entity),
            ],
            vec!["Project".to_owned(), opt(&r.identification.project)],
            vec!["Ruleset".to_owned(), r.identification.ruleset_path.clone()],
            vec![
                "Ruleset SHA-256".to_owned(),
                r.identification.ruleset_sha256.clone(),
            ],
            vec!["Schema version".to_owned(), r.schema_version.clone()],
        ],
    ));
    push(0, summary);

    // 2. Data.
    push(
        1,
        vec![
            Block::Table(
                vec!["".to_owned(), "Input".to_owned(), "Released".to_owned()],
                vec![
                    vec![
                        "File".to_owned(),
                        r.data.source.clone(),
                        opt(&r.data.output_file),
                    ],
                    vec![
                        "SHA-256".to_owned(),
                        r.data.input_sha256.clone(),
                        opt(&r.data.output_sha256),
                    ],
                    vec![
                        "Rows".to_owned(),
                        r.data.input_rows.to_string(),
                        r.data.output_rows.to_string(),
                    ],
                    vec![
                        "Format".to_owned(),
                        "".to_owned(),
                        r.data.output_format.clone(),
                    ],
                ],
            ),
            Block::Table(
                [
                    "Column",
                    "Role",
                    "Type",
                    "Safe Harbor category",
                    "Identifiers detected in the input",
                    "Treatment",
                ]
                .map(str::to_owned)
                .to_vec(),
                r.data
                    .columns
                    .iter()
                    .map(|c| {
                        let detected = r
                            .data
                            .input_scan
                            .get(&c.name)
                            .filter(|d| !d.is_empty())
                            .map_or_else(
                                || "none".to_owned(),
                                |d| {
                                    d.iter()
                                        .map(|(detector, n)| {
                                            format!("{} {n}", detector_name(detector))
                                        })
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                },
                            );
                        vec![
                            c.name.clone(),
                            c.role.clone(),
                            c.data_type.clone(),
                            opt(&c.identifier_kind),
                            detected,
                            c.treatment.clone(),
                        ]
                    })
                    .collect(),
            ),
        ],
    );

    // 3. Context.
    let c = &r.context;
    let mut context = vec![Block::Table(
        vec!["".to_owned(), "".to_owned()],
        vec![
            vec![
                "Recipients".to_owned(),
                if c.recipients.is_empty() {
                    "—".to_owned()
                } else {
                    c.recipients.join("; ")
                },
            ],
            vec![
                "Release type".to_owned(),
                format!("{} ({})", c.release_type, c.release_description),
            ],
            vec!["Intended use".to_owned(), opt(&c.intended_use)],
            vec![
                "Population".to_owned(),
                c.population
                    .map_or_else(|| "—".to_owned(), |n| n.to_string()),
            ],
            vec!["Sampling fraction".to_owned(), p(c.sampling_fraction)],
            vec!["Population source".to_owned(), opt(&c.population_source)],
            vec![
                "Attackers considered".to_owned(),
                c.threat_model.attackers.join(", "),
            ],
            vec![
                "Probability of an attempt".to_owned(),
                p(c.threat_model.attempt_probability),
            ],
        ],
    )];
    context.push(Block::Paragraph(format!(
        "Background knowledge: {}",
        c.threat_model.background_knowledge
    )));
    if !c.threat_model.external_sources.is_empty() {
        context.push(Block::Paragraph(
            "External sources assumed available:".to_owned(),
        ));
        context.push(Block::List(c.threat_model.external_sources.clone()));
    }
    context.push(Block::Paragraph(
        "Quasi-identifiers on the HHS risk principles (the expert's ratings, and what the data shows):"
            .to_owned(),
    ));
    let rating = |r: Option<crate::report::Rating>| {
        r.map_or_else(
            || "not rated".to_owned(),
            |r| {
                serde_json::to_value(r)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            },
        )
    };
    context.push(Block::Table(
        [
            "Quasi-identifier",
            "Replicability",
            "Availability",
            "Distinguishability",
            "Overall",
            "Distinct values",
            "Records unique on it alone",
        ]
        .map(str::to_owned)
        .to_vec(),
        c.principles
            .iter()
            .map(|a| {
                vec![
                    a.attribute.clone(),
                    rating(a.ratings.as_ref().map(|r| r.replicability)),
                    rating(a.ratings.as_ref().map(|r| r.availability)),
                    rating(a.ratings.as_ref().map(|r| r.distinguishability)),
                    rating(a.overall),
                    a.distinct_values.to_string(),
                    a.unique_records.to_string(),
                ]
            })
            .collect(),
    ));
    context.push(Block::Paragraph("Assumptions:".to_owned()));
    context.push(Block::List(c.assumptions.clone()));
    push(2, context);

    // 4. Methods.
    let m = &r.methods;
    let mut methods = Vec::new();
    if m.safe_harbor.is_empty() {
        methods.push(Block::Paragraph(
            "Safe Harbor: the ruleset declares no direct identifier.".to_owned(),
        ));
    } else {
        methods.push(Block::Table(
            ["Column", "Action", "Detail", "Cells changed"]
                .map(str::to_owned)
                .to_vec(),
            m.safe_harbor
                .iter()
                .map(|a| {
                    vec![
                        a.column.clone(),
                        a.action.clone(),
                        a.detail.clone(),
                        a.cells.to_string(),
                    ]
                })
                .collect(),
        ));
    }
    if m.transformations.is_empty() {
        methods.push(Block::Paragraph(
            "Statistical transformations (binning, microaggregation, noise): none configured."
                .to_owned(),
        ));
    } else {
        let text = |t: &serde_json::Value, key: &str| match &t[key] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "—".to_owned(),
            other => other.to_string(),
        };
        methods.push(Block::Table(
            [
                "Transformation",
                "Columns",
                "Fitted parameters (replayable)",
                "Cells changed",
                "Missing cells",
            ]
            .map(str::to_owned)
            .to_vec(),
            m.transformations
                .iter()
                .map(|t| {
                    vec![
                        text(t, "kind"),
                        t["columns"]
                            .as_array()
                            .map(|c| {
                                c.iter()
                                    .filter_map(|v| v.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            })
                            .unwrap_or_default(),
                        text(t, "parameters"),
                        text(t, "rows_affected"),
                        text(t, "missing_cells"),
                    ]
                })
                .collect(),
        ));
    }
    methods.push(Block::Table(
        vec!["Setting".to_owned(), "Value".to_owned()],
        vec![
            vec![
                "Privacy models".to_owned(),
                m.models
                    .iter()
                    .map(|s| serde_json::to_string(s).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("; "),
            ],
            vec!["Models as applied".to_owned(), m.applied_models.join("; ")],
            vec![
                "Suppression limit".to_owned(),
                format!(
                    "{} of the rows ({} records)",
                    m.suppression_limit, m.max_suppressed
                ),
            ],
            vec!["Utility metric".to_owned(), m.metric.to_string()],
            vec![
                "Search".to_owned(),
                format!(
                    "{} over {} nodes ({} evaluated, {:.0} ms){}",
                    m.strategy,
                    m.lattice_size,
                    m.nodes_checked,
                    m.search_ms,
                    if m.proven_optimal {
                        ", proven optimal"
                    } else {
                        ", not proven optimal"
                    }
                ),
            ],
            vec![
                "Base risk threshold".to_owned(),
                format!(
                    "{} (smallest class size {})",
                    fmt_probability(m.base_threshold.probability),
                    m.base_threshold.k
                ),
            ],
        ],
    ));
    methods.push(Block::Table(
        ["Measure", "Meaning", "Threshold"]
            .map(str::to_owned)
            .to_vec(),
        m.thresholds
            .iter()
            .map(|t| {
                vec![
                    t.measure.clone(),
                    t.description.clone(),
                    fmt_probability(t.threshold),
                ]
            })
            .collect(),
    ));
    push(3, methods);

    // 5. Results.
    let res = &r.results;
    let mut results = Vec::new();
    if res.found {
        let rows: Vec<(String, u32, u32)> = res
            .levels
            .iter()
            .map(|l| (l.attribute.clone(), l.level, l.height))
            .collect();
        results.push(Block::Chart {
            svg: crate::report::svg::level_bars("Generalization level per attribute", &rows),
            header: [
                "Attribute",
                "Level",
                "Height",
                "Distinct before",
                "Distinct after",
                "Loss",
            ]
            .map(str::to_owned)
            .to_vec(),
            rows: res
                .levels
                .iter()
                .map(|l| {
                    vec![
                        l.attribute.clone(),
                        l.level.to_string(),
                        l.height.to_string(),
                        l.distinct_before.to_string(),
                        l.distinct_after.to_string(),
                        l.loss.map_or_else(|| "—".to_owned(), |x| format!("{x:.4}")),
                    ]
                })
                .collect(),
        });
        let mut figures = vec![
            vec![
                "Records suppressed".to_owned(),
                res.suppressed_records.to_string(),
            ],
            vec![
                "Classes suppressed".to_owned(),
                res.suppressed_classes.to_string(),
            ],
            vec!["Classes released".to_owned(), res.classes.to_string()],
            vec![
                "Metric score".to_owned(),
                res.score.map_or_else(|| "—".to_owned(), |s| s.to_string()),
            ],
        ];
        if let Some(profile) = &res.privacy {
            figures.push(vec!["Smallest class (k)".to_owned(), profile.k.to_string()]);
            for (name, s) in &profile.sensitive {
                figures.push(vec![
                    format!("{name}: distinct / entropy l"),
                    format!("{} / {:.3}", s.l_distinct, s.l_entropy),
                ]);
                figures.push(vec![
                    format!("{name}: t (equal / hierarchical)"),
                    format!(
                        "{:.4} / {}",
                        s.t_equal,
                        s.t_hierarchical
                            .map_or_else(|| "—".to_owned(), |t| format!("{t:.4}"))
                    ),
                ]);
                figures.push(vec![
                    format!("{name}: δ-disclosure, β (basic)"),
                    format!("{:.4}, {:.4}", s.delta_disclosure, s.beta_basic),
                ]);
            }
        }
        results.push(Block::Table(
            vec!["Result".to_owned(), "Value".to_owned()],
            figures,
        ));
    } else {
        results.push(Block::Paragraph(
            "No transformation of the lattice satisfies the privacy models within the suppression limit; no data was released.".to_owned(),
        ));
    }
    push(4, results);

    // 6. Risk.
    let before = &r.risk.before;
    let after = r.risk.after.as_ref();
    let risk = vec![
        Block::Table(
            [
                "Measure",
                "Meaning",
                "Before",
                "After",
                "Threshold",
                "Meets",
            ]
            .map(str::to_owned)
            .to_vec(),
            r.risk
                .checks
                .iter()
                .map(|c| {
                    vec![
                        c.measure.clone(),
                        c.description.clone(),
                        p(c.before),
                        p(c.after),
                        p(c.threshold),
                        match c.passes {
                            Some(true) => "yes".to_owned(),
                            Some(false) => "NO".to_owned(),
                            None => "—".to_owned(),
                        },
                    ]
                })
                .collect(),
        ),
        Block::Table(
            ["", "Before", "After"].map(str::to_owned).to_vec(),
            vec![
                vec![
                    "Records measured".to_owned(),
                    before.records.to_string(),
                    after.map_or_else(|| "—".to_owned(), |a| a.records.to_string()),
                ],
                vec![
                    "Equivalence classes".to_owned(),
                    before.classes.to_string(),
                    after.map_or_else(|| "—".to_owned(), |a| a.classes.to_string()),
                ],
                vec![
                    "Sample-unique records".to_owned(),
                    before.sample_unique_records.to_string(),
                    after.map_or_else(|| "—".to_owned(), |a| a.sample_unique_records.to_string()),
                ],
                vec![
                    "Population-uniqueness model".to_owned(),
                    before
                        .population_uniques
                        .as_ref()
                        .map_or_else(|| "—".to_owned(), |u| format!("{:?}", u.dankar_model)),
                    after
                        .and_then(|a| a.population_uniques.as_ref())
                        .map_or_else(|| "—".to_owned(), |u| format!("{:?}", u.dankar_model)),
                ],
                vec![
                    "SUDA special uniques".to_owned(),
                    before
                        .suda
                        .as_ref()
                        .map_or_else(|| "not run".to_owned(), |s| s.special_uniques.to_string()),
                    after
                        .and_then(|a| a.suda.as_ref())
                        .map_or_else(|| "not run".to_owned(), |s| s.special_uniques.to_string()),
                ],
            ],
        ),
        before_after_chart(
            "Records by equivalence-class size",
            "class size",
            SIZE_BINS.iter().map(|b| b.0.to_owned()).collect(),
            size_distribution(before),
            after.map(size_distribution),
        ),
        before_after_chart(
            "Records by individual (prosecutor) risk",
            "re-identification risk",
            RISK_BINS.iter().map(|b| b.0.to_owned()).collect(),
            risk_distribution(before),
            after.map(risk_distribution),
        ),
    ];
    push(5, risk);

    // 7. Scan.
    let s = &r.scan;
    let mut scan = vec![Block::Paragraph(format!(
        "{} cells in {} columns scanned{}: {}.",
        s.cells,
        s.columns.len(),
        if s.skipped.is_empty() {
            String::new()
        } else {
            format!(" (token columns not scanned: {})", s.skipped.join(", "))
        },
        if s.clean {
            "no residual identifier found"
        } else {
            "residual identifiers found"
        }
    ))];
    if !s.clean {
        scan.push(Block::Table(
            ["Column", "Detector", "Cells"].map(str::to_owned).to_vec(),
            s.counts
                .iter()
                .flat_map(|(column, detectors)| {
                    detectors
                        .iter()
                        .map(move |(d, n)| vec![column.clone(), detector_name(d), n.to_string()])
                })
                .collect(),
        ));
    }
    push(6, scan);

    // 8. Limitations.
    push(7, vec![Block::List(r.limitations.clone())]);

    // 9. Release.
    push(
        8,
        vec![
            Block::Paragraph("The recipients accept these conditions:".to_owned()),
            Block::List(r.release.conditions.clone()),
            Block::Paragraph(format!(
                "This determination is valid for {} months, until {}. It must be re-assessed before then if:",
                r.release.reassessment_months, r.release.valid_until
            )),
            Block::List(r.release.triggers.clone()),
        ],
    );

    // 10. Audit.
    push(
        9,
        vec![
            Block::Paragraph(format!(
                "Each entry carries the SHA-256 of the entry before it; the first entry's predecessor is the SHA-256 of the ruleset ({}…). Token keys appear only as fingerprints.",
                &r.identification.ruleset_sha256[..r.identification.ruleset_sha256.len().min(16)]
            )),
            Block::Table(
                ["#", "Step", "What", "Counts", "Hash"]
                    .map(str::to_owned)
                    .to_vec(),
                r.audit
                    .iter()
                    .map(|e| {
                        vec![
                            e.sequence.to_string(),
                            e.step.clone(),
                            e.description.clone(),
                            e.counts
                                .iter()
                                .map(|(k, v)| format!("{k} {v}"))
                                .collect::<Vec<_>>()
                                .join(", "),
                            e.hash.clone(),
                        ]
                    })
                    .collect(),
            ),
        ],
    );

    // 11. Sign-off.
    push(
        10,
        vec![
            Block::Paragraph(r.sign_off.statement.clone()),
            Block::Paragraph(format!(
                "The content signed is identified by its SHA-256: {}",
                r.sign_off.content_sha256
            )),
            Block::Signature(vec![
                ("Name".to_owned(), r.sign_off.expert_name.clone()),
                (
                    "Credentials and experience".to_owned(),
                    r.sign_off.credentials.clone(),
                ),
                ("Organization".to_owned(), r.sign_off.organization.clone()),
                ("Date".to_owned(), None),
                ("Signature".to_owned(), None),
            ]),
        ],
    );

    // 12. Verification.
    push(
        11,
        vec![Block::Paragraph(format!(
            "To check that this report and the released file are intact, run: cargo run --release --example verify_report -- --report report.json --data {}",
            r.data
                .output_file
                .clone()
                .unwrap_or_else(|| "<released file>".to_owned())
        ))],
    );
    sections
}
