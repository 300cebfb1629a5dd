package dev.txstep.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.imageio.ImageIO;

/**
 * Draws the summary's ratios to the baseline as a grouped bar chart (PNG, java.awt, headless): one
 * group per setting, one bar per variant, on a logarithmic axis because replays run several times
 * faster than the baseline and DBOS workflows several times slower. Bars grow from the baseline's
 * 1× line, up when faster, down when slower. The {@code limit} variant is a bar like the others
 * (where the physical limit sits against the baseline), and the first-execution bars carry a second
 * label, "L" and their ratio to the limit of the same rounds: the part of the gap that is txstep's.
 */
final class RatioChart {

    private static final int WIDTH = 1400;
    private static final int HEIGHT = 720;
    private static final int LEFT = 80;
    private static final int RIGHT = 250;
    private static final int TOP = 70;
    private static final int BOTTOM = 90;
    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0x2ca02c), new Color(0xff7f0e), new Color(0x9467bd), new Color(0xd62728),
        new Color(0x8c564b), new Color(0x17becf)};
    private static final double[] GRID = {1, 2, 5};
    /** The bars labelled with their ratio to the limit too: the variants that record what the limit writes. */
    private static final Set<String> AGAINST_LIMIT = Set.of("txstep-first", "txstep-blocking");

    private final List<SummaryRow> rows;
    private final String rounds;

    /**
     * @param rows   the summary; rows without a ratio (the baseline itself) are not drawn
     * @param rounds the rounds per median, for the title
     */
    RatioChart(List<SummaryRow> rows, String rounds) {
        this.rows = rows.stream().filter(row -> row.ratio().isPresent() && row.ratio().getAsDouble() > 0)
                .filter(row -> !row.variant().equals(BenchOptions.VARIANTS.get(0))).toList();
        this.rounds = rounds;
    }

    void write(Path file) throws IOException {
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            draw(g);
        } finally {
            g.dispose();
        }
        ImageIO.write(image, "png", file.toFile());
    }

    private void draw(Graphics2D g) {
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        g.drawString("Throughput relative to a plain R2DBC transaction (same run; median of " + rounds
                + " rounds; log scale)", LEFT, 35);
        if (rows.isEmpty()) {
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
            g.drawString("no ratios to draw", LEFT, TOP + 40);
            return;
        }
        Set<Setting> settings = new LinkedHashSet<>();
        Set<String> variants = new LinkedHashSet<>();
        rows.forEach(row -> {
            settings.add(row.setting());
            variants.add(row.variant());
        });
        double min = Math.min(1, rows.stream().mapToDouble(row -> row.ratio().getAsDouble()).min().orElse(1)) / 1.4;
        double max = Math.max(1, rows.stream().mapToDouble(row -> row.ratio().getAsDouble()).max().orElse(1)) * 1.4;
        Axis axis = new Axis(Math.log10(min), Math.log10(max), TOP, HEIGHT - BOTTOM);

        drawGrid(g, axis);
        List<String> variantList = new ArrayList<>(variants);
        int plotWidth = WIDTH - LEFT - RIGHT;
        double groupWidth = plotWidth / (double) settings.size();
        double barWidth = groupWidth * 0.8 / variantList.size();
        int groupIndex = 0;
        int baselineY = axis.y(0);
        for (Setting setting : settings) {
            double groupX = LEFT + groupIndex * groupWidth + groupWidth * 0.1;
            for (SummaryRow row : rows) {
                if (!row.setting().equals(setting)) {
                    continue;
                }
                int v = variantList.indexOf(row.variant());
                double ratio = row.ratio().getAsDouble();
                int x = (int) Math.round(groupX + v * barWidth);
                int y = axis.y(Math.log10(ratio));
                g.setColor(PALETTE[v % PALETTE.length]);
                g.fillRect(x, Math.min(y, baselineY), (int) Math.max(1, barWidth - 2), Math.abs(baselineY - y));
                g.setColor(Color.DARK_GRAY);
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
                String label = String.format(Locale.ROOT, "%.2f", ratio);
                int labelY = ratio >= 1 ? y - 4 : y + 13;
                g.drawString(label, x + (int) (barWidth - 2 - g.getFontMetrics().stringWidth(label)) / 2, labelY);
                if (AGAINST_LIMIT.contains(row.variant()) && row.ratioToLimit().isPresent()) {
                    String limitLabel = String.format(Locale.ROOT, "L%.2f", row.ratioToLimit().getAsDouble());
                    g.setColor(PALETTE[v % PALETTE.length].darker());
                    g.drawString(limitLabel, x + (int) (barWidth - 2 - g.getFontMetrics().stringWidth(limitLabel)) / 2,
                            ratio >= 1 ? labelY - 13 : labelY + 13);
                }
            }
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            String label = setting.isolation().label() + "  c=" + setting.concurrency()
                    + (setting.outputBytes() == Setting.DEFAULT_OUTPUT_BYTES ? "" : "  " + bytes(setting.outputBytes()));
            int labelWidth = g.getFontMetrics().stringWidth(label);
            g.drawString(label, (int) (LEFT + groupIndex * groupWidth + (groupWidth - labelWidth) / 2),
                    HEIGHT - BOTTOM + 25);
            groupIndex++;
        }
        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(2));
        g.drawLine(LEFT, baselineY, WIDTH - RIGHT, baselineY);
        drawLegend(g, variantList);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(Color.DARK_GRAY);
        g.drawString("RC = READ COMMITTED, SER = SERIALIZABLE, c = operations (workflows) in flight;"
                + " 1× = r2dbc-baseline; Lx.xx = ratio to the limit variant (same rounds)", LEFT, HEIGHT - 30);
    }

    private static String bytes(int bytes) {
        return bytes >= 1024 && bytes % 1024 == 0 ? bytes / 1024 + " KiB" : bytes + " B";
    }

    private static void drawGrid(Graphics2D g, Axis axis) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int decade = (int) Math.floor(axis.low) - 1; decade <= Math.ceil(axis.high); decade++) {
            for (double step : GRID) {
                double value = step * Math.pow(10, decade);
                double log = Math.log10(value);
                if (log < axis.low || log > axis.high) {
                    continue;
                }
                int y = axis.y(log);
                g.setColor(new Color(0xdddddd));
                g.setStroke(new BasicStroke(1));
                g.drawLine(LEFT, y, WIDTH - RIGHT, y);
                g.setColor(Color.DARK_GRAY);
                String label = (value >= 1 ? String.format(Locale.ROOT, "%.0f", value)
                        : String.format(Locale.ROOT, "%.2f", value).replaceAll("0+$", "")) + "×";
                g.drawString(label, LEFT - 8 - g.getFontMetrics().stringWidth(label), y + 4);
            }
        }
    }

    private static void drawLegend(Graphics2D g, List<String> variants) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        int x = WIDTH - RIGHT + 25;
        int y = TOP + 10;
        for (int i = 0; i < variants.size(); i++) {
            g.setColor(PALETTE[i % PALETTE.length]);
            g.fillRect(x, y + i * 24, 16, 16);
            g.setColor(Color.BLACK);
            g.drawString(variants.get(i), x + 24, y + i * 24 + 13);
        }
    }

    /** Maps log10(ratio) to a pixel row. */
    private record Axis(double low, double high, int top, int bottom) {

        int y(double log) {
            return (int) Math.round(bottom - (log - low) / (high - low) * (bottom - top));
        }
    }
}
