// MetricValues: ARX 3.9.2's information loss of fixed transformations of adult, the figures that
// tests/it/metrics.rs pins.
//
// Build ARX 3.9.2's core from source (github arx-deidentifier/arx, tag v3.9.2: javac over
// src/main with the jars of lib/ant on the class path), then, from the repository root:
//
//   CP=<ARX's classes>:<its lib/ant jars>        # e.g. the class path a peer build writes out
//   javac -cp "$CP" -d /tmp/metric-values tests/reference/arx/MetricValues.java
//   java -cp "$CP:/tmp/metric-values" MetricValues datasets/adult > /tmp/metric-values.tsv
//
// Data: datasets/adult/adult.csv with datasets/adult/hierarchies/<attribute>.csv, the crate's
// own files (byte-identical to ARX's data/adult.csv and data/adult_hierarchy_*.csv), all nine
// columns quasi-identifiers (the crate's adult9.toml).
//
// How a node is evaluated: each run restricts every attribute's minimum and maximum
// generalization to the node's level, so the solution space is that one transformation, runs
// ARX's anonymizer with k-anonymity, the suppression limit and the quality model, and then calls
// ARXResult.getOutput(node): ARX applies the transformation (TransformationApplicator), computes
// the metric on its classes (with ARX's own outlier flags) and stores the exact score as both the
// node's highest and lowest score. The program checks that the two are equal, so no figure is a
// bound of an unchecked node.
//
// Output: one tab-separated line per (metric, k, limit, node): label, node (levels in column
// order), k, limit, anonymous, suppressed records, the score as Java's Double.toString, its
// IEEE-754 bits in hex, and the per-attribute values for multi-dimensional metrics.

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.deidentifier.arx.ARXAnonymizer;
import org.deidentifier.arx.ARXConfiguration;
import org.deidentifier.arx.ARXLattice.ARXNode;
import org.deidentifier.arx.ARXResult;
import org.deidentifier.arx.AttributeType.Hierarchy;
import org.deidentifier.arx.Data;
import org.deidentifier.arx.DataHandle;
import org.deidentifier.arx.criteria.KAnonymity;
import org.deidentifier.arx.io.CSVHierarchyInput;
import org.deidentifier.arx.metric.InformationLoss;
import org.deidentifier.arx.metric.Metric;
import org.deidentifier.arx.metric.Metric.AggregateFunction;

public class MetricValues {

    /** A quality model with its attribute weights (null: ARX's default 0.5 each). */
    static final class Model {
        final String label;
        final Supplier<Metric<?>> metric;
        final Map<String, Double> weights;
        Model(String label, Supplier<Metric<?>> metric, Map<String, Double> weights) {
            this.label = label; this.metric = metric; this.weights = weights;
        }
    }

    /** A privacy setting and the nodes evaluated under it. */
    static final class Setting {
        final int k;
        final double limit;
        final int[][] nodes;
        Setting(int k, double limit, int[]... nodes) { this.k = k; this.limit = limit; this.nodes = nodes; }
    }

    static String[] columns;
    static String dir;

    static Data load() throws Exception {
        Data data = Data.create(dir + "/adult.csv", StandardCharsets.UTF_8, ';');
        DataHandle handle = data.getHandle();
        columns = new String[handle.getNumColumns()];
        for (int c = 0; c < columns.length; c++) {
            columns[c] = handle.getAttributeName(c);
            File h = new File(dir + "/hierarchies/" + columns[c] + ".csv");
            CSVHierarchyInput in = new CSVHierarchyInput(h, StandardCharsets.UTF_8, ';');
            data.getDefinition().setAttributeType(columns[c], Hierarchy.create(in.getHierarchy()));
        }
        return data;
    }

    static Map<String, Double> weights(Object... pairs) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) m.put((String) pairs[i], ((Number) pairs[i + 1]).doubleValue());
        return m;
    }

    public static void main(String[] args) throws Exception {
        dir = args.length > 0 ? args[0] : "datasets/adult";
        Data data = load();

        // Weights: age counts most, race not at all, sex little; the others keep ARX's 0.5.
        Map<String, Double> w = weights("age", 1.0, "race", 0.0, "sex", 0.2);
        Map<String, Double> zero = new LinkedHashMap<>();
        for (String c : columns) zero.put(c, 0.0);

        List<Model> models = new ArrayList<>();
        models.add(new Model("precision", () -> Metric.createPrecisionMetric(), null));
        models.add(new Model("precision-gm", () -> Metric.createPrecisionMetric(AggregateFunction.GEOMETRIC_MEAN), null));
        models.add(new Model("precision-max", () -> Metric.createPrecisionMetric(AggregateFunction.MAXIMUM), null));
        models.add(new Model("precision-sum", () -> Metric.createPrecisionMetric(AggregateFunction.SUM), null));
        models.add(new Model("precision-weighted", () -> Metric.createPrecisionMetric(), w));
        models.add(new Model("dm", () -> Metric.createDiscernabilityMetric(), null));
        models.add(new Model("dm-star", () -> Metric.createDiscernabilityMetric(true), null));
        models.add(new Model("aecs", () -> Metric.createAECSMetric(), null));
        models.add(new Model("height", () -> Metric.createHeightMetric(), null));
        models.add(new Model("height-am", () -> Metric.createHeightMetric(AggregateFunction.ARITHMETIC_MEAN), null));
        models.add(new Model("height-weighted", () -> Metric.createHeightMetric(), w));
        models.add(new Model("loss-am", () -> Metric.createLossMetric(AggregateFunction.ARITHMETIC_MEAN), null));
        models.add(new Model("loss-gm", () -> Metric.createLossMetric(AggregateFunction.GEOMETRIC_MEAN), null));
        models.add(new Model("loss-max", () -> Metric.createLossMetric(AggregateFunction.MAXIMUM), null));
        models.add(new Model("loss-sum", () -> Metric.createLossMetric(AggregateFunction.SUM), null));
        models.add(new Model("loss-am-weighted", () -> Metric.createLossMetric(AggregateFunction.ARITHMETIC_MEAN), w));
        models.add(new Model("loss-gm-weighted", () -> Metric.createLossMetric(AggregateFunction.GEOMETRIC_MEAN), w));
        models.add(new Model("loss-max-weighted", () -> Metric.createLossMetric(AggregateFunction.MAXIMUM), w));
        models.add(new Model("loss-am-zero-weights", () -> Metric.createLossMetric(AggregateFunction.ARITHMETIC_MEAN), zero));
        // gs factor other than 0.5: ARX weights generalization and suppression differently.
        models.add(new Model("loss-am-gs0.25", () -> Metric.createLossMetric(0.25, AggregateFunction.ARITHMETIC_MEAN), null));
        models.add(new Model("precision-gs0.25", () -> Metric.createPrecisionMetric(0.25), null));
        models.add(new Model("aecs-gs0.25", () -> Metric.createAECSMetric(0.25), null));

        List<Setting> settings = new ArrayList<>();
        // k = 5 without suppression: the top, ARX's Loss optimum (tests/it/search.rs, adult9 k = 5 at 0 %), the
        // entropy optimum at 0 %, and a node ARX reported with Loss 0.6666666666666667.
        settings.add(new Setting(5, 0.0,
                new int[] {1, 4, 1, 2, 3, 2, 2, 2, 1},
                new int[] {0, 4, 1, 1, 3, 2, 2, 1, 0},
                new int[] {1, 2, 1, 1, 3, 2, 2, 1, 1},
                new int[] {0, 4, 1, 2, 3, 2, 0, 2, 0}));
        // k = 5 at 2 %: ARX's Loss optimum (case 5b, 506 suppressed) and two nodes ARX reported.
        settings.add(new Setting(5, 0.02,
                new int[] {0, 3, 0, 2, 2, 1, 1, 2, 0},
                new int[] {0, 3, 0, 1, 3, 1, 1, 2, 0},
                new int[] {0, 4, 0, 1, 1, 1, 1, 2, 0}));
        // k = 5 at 4 %: the entropy optimum (case 1, 906 suppressed).
        settings.add(new Setting(5, 0.04, new int[] {1, 0, 1, 1, 3, 2, 2, 0, 1}));
        // k = 5 at 100 %: the bottom, every class smaller than 5 suppressed.
        settings.add(new Setting(5, 1.0, new int[] {0, 0, 0, 0, 0, 0, 0, 0, 0}));

        ARXAnonymizer anonymizer = new ARXAnonymizer();
        for (Model model : models) {
            for (Setting s : settings) {
                for (int[] node : s.nodes) {
                    data.getHandle().release();
                    for (int c = 0; c < columns.length; c++) {
                        data.getDefinition().setMinimumGeneralization(columns[c], node[c]);
                        data.getDefinition().setMaximumGeneralization(columns[c], node[c]);
                    }
                    ARXConfiguration config = ARXConfiguration.create();
                    config.addPrivacyModel(new KAnonymity(s.k));
                    config.setSuppressionLimit(s.limit);
                    config.setQualityModel(model.metric.get());
                    if (model.weights != null) {
                        for (Map.Entry<String, Double> e : model.weights.entrySet()) {
                            config.setAttributeWeight(e.getKey(), e.getValue());
                        }
                    }
                    ARXResult result = anonymizer.anonymize(data, config);
                    ARXNode found = null;
                    for (ARXNode[] level : result.getLattice().getLevels()) {
                        for (ARXNode n : level) {
                            boolean same = true;
                            for (int c = 0; c < columns.length; c++) same &= n.getGeneralization(columns[c]) == node[c];
                            if (same) found = n;
                        }
                    }
                    if (found == null) throw new IllegalStateException("node not in lattice: " + Arrays.toString(node));
                    DataHandle out = result.getOutput(found, false);
                    InformationLoss<?> hi = found.getHighestScore(), lo = found.getLowestScore();
                    if (hi.compareTo(lo) != 0) throw new IllegalStateException("score is a bound: " + hi + " / " + lo);
                    int suppressed = 0;
                    for (int r = 0; r < out.getNumRows(); r++) if (out.isOutlier(r)) suppressed++;
                    double score;
                    String parts = "";
                    Object value = hi.getValue();
                    if (value instanceof double[]) {
                        score = Double.parseDouble(hi.toString());
                        StringBuilder b = new StringBuilder();
                        for (double d : (double[]) value) b.append(b.length() == 0 ? "" : ",").append(Double.toString(d));
                        parts = b.toString();
                    } else {
                        score = ((Number) value).doubleValue();
                    }
                    StringBuilder line = new StringBuilder();
                    line.append(model.label).append('\t')
                        .append(Arrays.toString(node).replace(" ", "")).append('\t')
                        .append(s.k).append('\t').append(s.limit).append('\t')
                        .append(found.getAnonymity()).append('\t')
                        .append(suppressed).append('\t')
                        .append(Double.toString(score)).append('\t')
                        .append(Long.toHexString(Double.doubleToRawLongBits(score))).append('\t')
                        .append(parts);
                    System.out.println(line);
                }
            }
        }
        for (int c = 0; c < columns.length; c++) {
            data.getDefinition().resetMinimumGeneralization(columns[c]);
            data.getDefinition().resetMaximumGeneralization(columns[c]);
        }
    }
}
