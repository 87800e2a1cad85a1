// Package deploycheck holds no code: its tests check the deployment files at the
// repository root against the rules their platforms publish, since neither
// platform validates them before a deploy.
//
//   - serverless.yml, Tencent's Serverless Framework `component: scf` file,
//     against the component's published type rules (scf@0.0.4.yml) and
//     configuration reference;
//   - template.yaml, the AWS SAM template, by structure and with cfn-lint
//     (set CCC_ENRICHER_REQUIRE_CFNLINT=1 to fail rather than skip where
//     cfn-lint is missing);
//   - the scripts under scripts/, with bash -n and shellcheck, and
//     scripts/build.sh for byte-reproducible packages.
package deploycheck
