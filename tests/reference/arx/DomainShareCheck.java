// DomainShareCheck: ARX 3.9.2's information loss on a small table whose hierarchies list values
// that never occur in the data, repeat a row, and reuse a leaf's string as a label one level up:
// the figures tests/it/metrics.rs pins in `absent_values_match_arx` (and, given the FARS folder,
// ARX's Loss at FARS's optima, quoted in `fars_loss_matches_arx`).
//
// Build ARX 3.9.2's core from source as for MetricValues.java, then, from the repository root:
//
//   CP=<ARX's classes>:<its lib/ant jars>        # e.g. the class path a peer build writes out
//   javac -cp "$CP" -d /tmp/domain-share tests/reference/arx/DomainShareCheck.java
//   java -cp "$CP:/tmp/domain-share" DomainShareCheck tests/data/absent_values > tests/data/arx_absent_values.tsv
//   java -cp "$CP:/tmp/domain-share" DomainShareCheck --fars <folder of fars_int.csv>
//
// Data (tests/data/absent_values): data.csv, 10 records of two quasi-identifiers, age and zip,
// with the hierarchies age.csv (values 1-8, of which the data holds 1, 2, 3, 5, 6; the row of 6
// listed twice) and zip.csv (values a1, a2, a3, b1, b2, c1, of which the data holds a1, a2, b1,
// b2; the level-1 label of a1, a2, a3 is the string "a1").
//
// Each node is evaluated as in MetricValues.java: a one-node solution space (minimum = maximum
// generalization per attribute), ARX's anonymizer, then ARXResult.getOutput(node), so every score
// is ARX's exact evaluation (highest = lowest score is checked). Nodes ARX finds not anonymous
// are printed with their anonymity and no score.
//
// Output: one tab-separated line per (metric, k, limit, node): label, node (levels in column
// order), k, limit, anonymity, suppressed records, the score as Java's Double.toString, its
// IEEE-754 bits in hex, and the per-attribute values for multi-dimensional metrics.

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

import org.deidentifier.arx.ARXAnonymizer;
import org.deidentifier.arx.ARXConfiguration;
import org.deidentifier.arx.ARXLattice.ARXNode;
import org.deidentifier.arx.ARXLattice.Anonymity;
import org.deidentifier.arx.ARXResult;
import org.deidentifier.arx.AttributeType.Hierarchy;
import org.deidentifier.arx.Data;
import org.deidentifier.arx.DataHandle;
import org.deidentifier.arx.criteria.KAnonymity;
import org.deidentifier.arx.io.CSVHierarchyInput;
import org.deidentifier.arx.metric.InformationLoss;
import org.deidentifier.arx.metric.Metric;
import org.deidentifier.arx.metric.Metric.AggregateFunction;

public class DomainShareCheck {

    static final class Model {
        final String label;
        final Supplier<Metric<?>> metric;
        Model(String label, Supplier<Metric<?>> metric) { this.label = label; this.metric = metric; }
    }

    static String[] columns;

    /** Loads `csv` with every column a quasi-identifier, its hierarchy at hierarchy(column). */
    static Data load(String csv, java.util.function.Function<String, File> hierarchy) throws Exception {
        Data data = Data.create(csv, StandardCharsets.UTF_8, ';');
        DataHandle handle = data.getHandle();
        columns = new String[handle.getNumColumns()];
        for (int c = 0; c < columns.length; c++) {
            columns[c] = handle.getAttributeName(c);
            CSVHierarchyInput in = new CSVHierarchyInput(hierarchy.apply(columns[c]), StandardCharsets.UTF_8, ';');
            data.getDefinition().setAttributeType(columns[c], Hierarchy.create(in.getHierarchy()));
        }
        return data;
    }

    static String evaluate(ARXAnonymizer anonymizer, Data data, Model model, int k, double limit, int[] node)
            throws Exception {
        data.getHandle().release();
        for (int c = 0; c < columns.length; c++) {
            data.getDefinition().setMinimumGeneralization(columns[c], node[c]);
            data.getDefinition().setMaximumGeneralization(columns[c], node[c]);
        }
        ARXConfiguration config = ARXConfiguration.create();
        config.addPrivacyModel(new KAnonymity(k));
        config.setSuppressionLimit(limit);
        config.setQualityModel(model.metric.get());
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
        StringBuilder line = new StringBuilder();
        line.append(model.label).append('\t')
            .append(Arrays.toString(node).replace(" ", "")).append('\t')
            .append(k).append('\t').append(limit).append('\t')
            .append(found.getAnonymity());
        if (found.getAnonymity() != Anonymity.ANONYMOUS) {
            return line.append("\t\t\t\t").toString();
        }
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
        line.append('\t').append(suppressed).append('\t')
            .append(Double.toString(score)).append('\t')
            .append(Long.toHexString(Double.doubleToRawLongBits(score))).append('\t')
            .append(parts);
        return line.toString();
    }

    public static void main(String[] args) throws Exception {
        ARXAnonymizer anonymizer = new ARXAnonymizer();
        if (args.length == 2 && args[0].equals("--fars")) {
            // FARS: ARX's Loss (arithmetic mean) at the optima ARX's benchmark finds
            // (ARX's optimal search with this metric, k = 5, at 0 % and 2 %).
            String dir = args[1];
            Data data = load(dir + "/fars_int.csv", c -> new File(dir + "/fars_int_hierarchy_" + c + ".csv"));
            Model loss = new Model("loss-am", () -> Metric.createLossMetric(AggregateFunction.ARITHMETIC_MEAN));
            System.out.println(evaluate(anonymizer, data, loss, 5, 0.0, new int[] {4, 2, 3, 0, 1, 2, 2, 2}));
            System.out.println(evaluate(anonymizer, data, loss, 5, 0.02, new int[] {4, 1, 2, 1, 0, 0, 2, 0}));
            return;
        }
        String dir = args.length > 0 ? args[0] : "tests/data/absent_values";
        Data data = load(dir + "/data.csv", c -> new File(dir + "/" + c + ".csv"));

        List<Model> models = new ArrayList<>();
        models.add(new Model("loss-am", () -> Metric.createLossMetric(AggregateFunction.ARITHMETIC_MEAN)));
        models.add(new Model("loss-sum", () -> Metric.createLossMetric(AggregateFunction.SUM)));
        models.add(new Model("loss-am-gs0.25", () -> Metric.createLossMetric(0.25, AggregateFunction.ARITHMETIC_MEAN)));
        models.add(new Model("precision", () -> Metric.createPrecisionMetric()));
        models.add(new Model("entropy", () -> Metric.createPrecomputedEntropyMetric(0.1, true)));
        models.add(new Model("entropy-nm", () -> Metric.createPrecomputedEntropyMetric(0.1, false)));
        models.add(new Model("height", () -> Metric.createHeightMetric()));
        models.add(new Model("dm", () -> Metric.createDiscernabilityMetric()));
        models.add(new Model("dm-star", () -> Metric.createDiscernabilityMetric(true)));
        models.add(new Model("aecs", () -> Metric.createAECSMetric()));

        // Every node of the 3 × 3 lattice, k = 2, without suppression and with up to 3 of the 10
        // records suppressed.
        for (Model model : models) {
            for (double limit : new double[] {0.0, 0.3}) {
                for (int a = 0; a <= 2; a++) {
                    for (int z = 0; z <= 2; z++) {
                        System.out.println(evaluate(anonymizer, data, model, 2, limit, new int[] {a, z}));
                    }
                }
            }
        }
    }
}
