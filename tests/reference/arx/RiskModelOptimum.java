// RiskModelOptimum: ARX 3.9.2's optimum for adult (all nine columns quasi-identifiers) under
// risk-based privacy models, the figures tests/it/examples.rs pins for `anonymize
// --average-risk 0.05 --sample-uniques 0.01 --suppression 0.02`.
//
// Build ARX 3.9.2's core as for MetricValues.java, then, from the repository root:
//
//   CP=<ARX's classes>:<its lib/ant jars>
//   javac -cp "$CP" -d /tmp/riskopt tests/reference/arx/RiskModelOptimum.java
//   java -cp "$CP:/tmp/riskopt" RiskModelOptimum datasets/adult
//
// Models: AverageReidentificationRisk(0.05) and SampleUniqueness(0.01) (ARX's sample-based
// models: no population), suppression limit 2 %, quality model
// Metric.createLossMetric(AggregateFunction.ARITHMETIC_MEAN) (gs factor 0.5), as the crate's
// `loss` metric. The crate's `--k 1` adds k-anonymity with k = 1, which every table meets;
// ARX is given no k-anonymity model.
//
// Output: one line: the optimum's levels in column order, its score, the number of suppressed
// records (flagged as outliers, or every value `*`), and the number of equivalence classes
// of the output (suppressed records excluded).

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

import org.deidentifier.arx.ARXAnonymizer;
import org.deidentifier.arx.ARXConfiguration;
import org.deidentifier.arx.ARXLattice.ARXNode;
import org.deidentifier.arx.ARXResult;
import org.deidentifier.arx.AttributeType.Hierarchy;
import org.deidentifier.arx.Data;
import org.deidentifier.arx.DataHandle;
import org.deidentifier.arx.criteria.AverageReidentificationRisk;
import org.deidentifier.arx.criteria.SampleUniqueness;
import org.deidentifier.arx.metric.Metric;

public class RiskModelOptimum {
    public static void main(String[] args) throws Exception {
        File dir = new File(args.length > 0 ? args[0] : "datasets/adult");
        Data data = Data.create(new File(dir, "adult.csv"), StandardCharsets.UTF_8, ';');
        DataHandle input = data.getHandle();
        int columns = input.getNumColumns();
        for (int c = 0; c < columns; c++) {
            String name = input.getAttributeName(c);
            File h = new File(dir, "hierarchies/" + name + ".csv");
            data.getDefinition().setAttributeType(name, Hierarchy.create(h, StandardCharsets.UTF_8, ';'));
        }
        ARXConfiguration config = ARXConfiguration.create();
        config.addPrivacyModel(new AverageReidentificationRisk(0.05));
        config.addPrivacyModel(new SampleUniqueness(0.01));
        config.setSuppressionLimit(0.02);
        config.setQualityModel(Metric.createLossMetric(Metric.AggregateFunction.ARITHMETIC_MEAN));
        ARXResult result = new ARXAnonymizer().anonymize(data, config);
        ARXNode optimum = result.getGlobalOptimum();
        DataHandle output = result.getOutput(optimum, false);
        int suppressed = 0;
        Set<String> classes = new HashSet<>();
        for (int r = 0; r < output.getNumRows(); r++) {
            StringBuilder key = new StringBuilder();
            boolean starred = true;
            for (int c = 0; c < columns; c++) {
                String value = output.getValue(r, c);
                starred &= value.equals("*");
                key.append(value).append('\u0001');
            }
            if (output.isOutlier(r) || starred) {
                suppressed++;
                continue;
            }
            classes.add(key.toString());
        }
        StringBuilder levels = new StringBuilder();
        for (int c = 0; c < columns; c++) {
            levels.append(c == 0 ? "" : ",").append(optimum.getGeneralization(input.getAttributeName(c)));
        }
        System.out.println("node [" + levels + "] score " + optimum.getHighestScore()
                + " suppressed " + suppressed + " classes " + classes.size());
    }
}
