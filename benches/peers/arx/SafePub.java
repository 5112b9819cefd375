// SafePub releases with ARX 3.9.2 (built from source by run.sh; see README.md beside this file).
//
// Usage: java -cp <ARX classpath>:<this class> SafePub DATA EPSILON DELTA SEARCH_BUDGET STEPS N OUT
//   DATA           a ';'-separated CSV with a header; every column with a hierarchy file
//                  <dir of DATA>/hierarchies/<column>.csv (';'-separated) is a quasi-identifier
//   EPSILON DELTA  (epsilon, delta)-differential privacy: new EDDifferentialPrivacy(EPSILON, DELTA),
//                  ARX's data-dependent variant (no generalization scheme) = SafePub
//   SEARCH_BUDGET  ARXConfiguration.setDPSearchBudget: an absolute epsilon (ARX's default 0.1),
//                  spent by the walk and subtracted from EPSILON before beta and k are derived
//   STEPS          the walk's steps: setHeuristicSearchStepLimit(STEPS, SearchStepSemantics.EXPANSIONS)
//                  (ARX then also stops after STEPS * #QIs checks)
//   N              releases in this one JVM, each with a fresh EDDifferentialPrivacy (a new random
//                  sample, SecureRandom) and a fresh configuration
//   OUT            folder; release i (1-based) goes to OUT/release-<i>.csv as ARX writes it
//                  (DataHandle.save(file, ';')): header and every input record in input order,
//                  suppressed and unsampled records with '*' in every quasi-identifier (the form
//                  deidentify's `measure --release` reads). OUT = '-' writes nothing.
// Quality model: Metric.createLossMetric(AggregateFunction.ARITHMETIC_MEAN) (gs factor 0.5), suppression
// limit 1 (SafePub suppresses every class below k), as in ARX's Example37 and the Bench driver.
// stdout: one JSON line per release, then one summary line. Progress goes to stderr.

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.deidentifier.arx.ARXAnonymizer;
import org.deidentifier.arx.ARXConfiguration;
import org.deidentifier.arx.ARXConfiguration.SearchStepSemantics;
import org.deidentifier.arx.ARXLattice.ARXNode;
import org.deidentifier.arx.ARXResult;
import org.deidentifier.arx.AttributeType;
import org.deidentifier.arx.AttributeType.Hierarchy;
import org.deidentifier.arx.Data;
import org.deidentifier.arx.DataHandle;
import org.deidentifier.arx.criteria.EDDifferentialPrivacy;
import org.deidentifier.arx.framework.lattice.ObjectIterator;
import org.deidentifier.arx.framework.lattice.SolutionSpace;
import org.deidentifier.arx.framework.lattice.Transformation;
import org.deidentifier.arx.io.CSVHierarchyInput;
import org.deidentifier.arx.metric.Metric;

public class SafePub {

    static Data load(File csv, List<String> qisOut) throws IOException {
        Data data = Data.create(csv, StandardCharsets.UTF_8, ';');
        File hdir = new File(csv.getAbsoluteFile().getParentFile(), "hierarchies");
        DataHandle handle = data.getHandle();
        for (int c = 0; c < handle.getNumColumns(); c++) {
            String attr = handle.getAttributeName(c);
            File h = new File(hdir, attr + ".csv");
            if (h.isFile()) {
                CSVHierarchyInput in = new CSVHierarchyInput(h, StandardCharsets.UTF_8, ';');
                data.getDefinition().setAttributeType(attr, Hierarchy.create(in.getHierarchy()));
                qisOut.add(attr);
            } else {
                System.err.println("WARNING: no hierarchy for '" + attr + "' (" + h + "): released unchanged");
                data.getDefinition().setAttributeType(attr, AttributeType.INSENSITIVE_ATTRIBUTE);
            }
        }
        if (qisOut.isEmpty()) throw new IllegalArgumentException("no hierarchies in " + hdir);
        return data;
    }

    static ARXConfiguration config(EDDifferentialPrivacy dp, double budget, int steps) {
        ARXConfiguration config = ARXConfiguration.create();
        config.addPrivacyModel(dp);
        config.setSuppressionLimit(1d);
        config.setDPSearchBudget(budget);
        config.setHeuristicSearchStepLimit(steps, SearchStepSemantics.EXPANSIONS);
        config.setQualityModel(Metric.createLossMetric(Metric.AggregateFunction.ARITHMETIC_MEAN));
        return config;
    }

    static double median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        if (s.length == 0) return Double.NaN;
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }

    static String ms(double ns) { return String.format(Locale.ROOT, "%.1f", ns / 1e6); }

    static String msList(long[] ns) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < ns.length; i++) b.append(i == 0 ? "" : ",").append(ms(ns[i]));
        return b.append("]").toString();
    }

    static String strList(List<String> l) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < l.size(); i++) b.append(i == 0 ? "" : ",").append('"').append(l.get(i).replace("\"", "\\\"")).append('"');
        return b.append("]").toString();
    }

    static int countReleased(DataHandle out) {
        int n = 0;
        for (int r = 0; r < out.getNumRows(); r++) if (!out.isOutlier(r)) n++;
        return n;
    }

    /**
     * Transformations the walk checked (scored). ARX's public API does not give them for this search
     * (getProcessStatistics() and getLattice() hold only the released node), so they are counted as
     * ARXProcessStatistics counts them, in the result's solution space, read by reflection; -1 if that fails.
     */
    static long checked(ARXResult result) {
        try {
            java.lang.reflect.Field f = ARXResult.class.getDeclaredField("solutionSpace");
            f.setAccessible(true);
            SolutionSpace<?> space = (SolutionSpace<?>) f.get(result);
            long n = 0;
            for (ObjectIterator<?> it = space.getMaterializedTransformations(); it.hasNext();) {
                Transformation<?> t = space.getTransformation(it.next());
                if (t.hasProperty(space.getPropertyChecked()) || t.getInformationLoss() != null) n++;
            }
            return n;
        } catch (Throwable e) {
            return -1;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 7) {
            System.err.println("usage: SafePub DATA.csv EPSILON DELTA SEARCH_BUDGET STEPS N OUT|-");
            System.exit(2);
        }
        File csv = new File(args[0]);
        double epsilon = Double.parseDouble(args[1]), delta = Double.parseDouble(args[2]);
        double budget = Double.parseDouble(args[3]);
        int steps = Integer.parseInt(args[4]), n = Integer.parseInt(args[5]);
        File outDir = args[6].equals("-") ? null : new File(args[6]);
        if (outDir != null) Files.createDirectories(outDir.toPath());

        List<String> qis = new ArrayList<>();
        Data data = load(csv, qis);
        int rows = data.getHandle().getNumRows();
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        ARXAnonymizer anonymizer = new ARXAnonymizer();
        long[] wall = new long[n], cpu = new long[n];
        long releasedSum = 0;
        int kFirst = -1;
        for (int i = 0; i < n; i++) {
            data.getHandle().release();                                 // drop the previous release's handles
            EDDifferentialPrivacy dp = new EDDifferentialPrivacy(epsilon, delta); // fresh: a new random sample
            ARXConfiguration config = config(dp, budget, steps);       // outside the timing
            long c0 = mx.getCurrentThreadCpuTime(), t0 = System.nanoTime();
            ARXResult result = anonymizer.anonymize(data, config);     // sampling + beta/k + the walk
            long t1 = System.nanoTime();
            DataHandle out = result.getOutput();                        // generalize + suppress (classes < k, unsampled)
            long t2 = System.nanoTime(), c2 = mx.getCurrentThreadCpuTime();
            wall[i] = t2 - t0; cpu[i] = c2 - c0;

            EDDifferentialPrivacy used = result.getConfiguration().getPrivacyModel(EDDifferentialPrivacy.class);
            if (used == null) used = dp;
            int k = used.getK();
            if (kFirst < 0) kFirst = k;
            double beta = used.getBeta();
            int sampled = used.getDataSubset() == null ? -1 : used.getDataSubset().getSize();
            ARXNode opt = result.getGlobalOptimum();
            int[] node = new int[qis.size()];
            for (int q = 0; q < qis.size(); q++) node[q] = opt == null ? -1 : opt.getGeneralization(qis.get(q));
            long checked = checked(result);

            int released = countReleased(out);
            if (outDir != null) out.save(new File(outDir, "release-" + (i + 1) + ".csv"), ';');
            releasedSum += released;

            StringBuilder b = new StringBuilder();
            b.append("{\"release\":").append(i + 1);
            b.append(",\"epsilon\":").append(epsilon);
            b.append(",\"delta\":").append(delta);
            b.append(",\"search_budget\":").append(budget);
            b.append(",\"steps\":").append(steps);
            b.append(",\"k\":").append(k);
            b.append(",\"beta\":").append(beta);
            b.append(",\"node\":").append(opt == null ? "null" : Arrays.toString(node).replace(" ", ""));
            b.append(",\"rows\":").append(rows);
            b.append(",\"records_sampled\":").append(sampled);
            b.append(",\"records_released\":").append(released);
            b.append(",\"checked\":").append(checked);
            b.append(",\"ms\":").append(ms(wall[i]));
            b.append(",\"cpu_ms\":").append(ms(cpu[i]));
            b.append(",\"ms_anonymize\":").append(ms(t1 - t0));
            b.append(",\"ms_output\":").append(ms(t2 - t1));
            b.append('}');
            System.out.println(b);
            System.out.flush();
            System.err.printf(Locale.ROOT, "  release %d/%d: k %d, %d released, %.1f ms wall, %.1f ms cpu%n",
                              i + 1, n, k, released, wall[i] / 1e6, cpu[i] / 1e6);
        }
        StringBuilder b = new StringBuilder();
        b.append("{\"summary\":true");
        b.append(",\"arx\":\"3.9.2\"");
        b.append(",\"data\":\"").append(csv.getPath().replace("\\", "/")).append('"');
        b.append(",\"qis\":").append(strList(qis));
        b.append(",\"epsilon\":").append(epsilon);
        b.append(",\"delta\":").append(delta);
        b.append(",\"search_budget\":").append(budget);
        b.append(",\"steps\":").append(steps);
        b.append(",\"k\":").append(kFirst);
        b.append(",\"releases\":").append(n);
        b.append(",\"records_released_mean\":").append(String.format(Locale.ROOT, "%.1f", n == 0 ? 0.0 : releasedSum / (double) n));
        b.append(",\"ms_median\":").append(ms(median(wall)));
        b.append(",\"cpu_ms_median\":").append(ms(median(cpu)));
        b.append(",\"ms_all\":").append(msList(wall));
        b.append(",\"cpu_ms_all\":").append(msList(cpu));
        b.append('}');
        System.out.println(b);
    }
}
