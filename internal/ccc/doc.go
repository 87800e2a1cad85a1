// Package ccc is Tencent Cloud Contact Center's data model as ccc-enricher
// reads it: the typed models of DescribeSessionDetail and DescribeTelCdr
// (decoded tolerantly, each keeping the API's JSON as it came), the
// EndStatus table, and the query windows the API accepts. It calls
// nothing; package cccapi does, with the SDK.
package ccc
