#include "reports/design_tsv.h"

#include <cstdio>

namespace pf::proformer::design {

namespace {

std::string number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", x);
  return text;
}

}  // namespace

std::string design_tsv_header(const Ensemble& models) {
  std::string comments, columns = "start_id\tround\tsequence\tn_edits\tedits";
  for (int64_t m = 0; m < models.size(); ++m) {
    const std::string name = "model_" + std::to_string(m + 1);
    comments += "# " + name + " = " + models.checkpoint(m) + "\n";
    columns += "\t" + name;
  }
  return comments + columns + "\tmean\tsd\tscore\n";
}

std::string design_tsv_row(const Start& start, int64_t round, const Scored& design) {
  std::string row = start.id;
  for (const std::string& field : {std::to_string(round), start.sequence(design.promoter),
                                   std::to_string(count_edits(start.promoter, design.promoter)),
                                   describe_edits(start.promoter, design.promoter)})
    row.append("\t").append(field);
  for (float p : design.predictions) row.append("\t").append(number(p));
  for (double x : {design.mean, design.sd, design.score}) row.append("\t").append(number(x));
  return row + "\n";
}

}  // namespace pf::proformer::design
