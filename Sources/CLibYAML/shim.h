#ifndef PROMPTCHECK_CLIBYAML_SHIM_H
#define PROMPTCHECK_CLIBYAML_SHIM_H
#include <yaml.h>
#endif
