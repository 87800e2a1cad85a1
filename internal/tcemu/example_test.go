package tcemu_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// Point tencentcloud-sdk-go's common client at the emulator.
func Example() {
	emu := tcemu.New(tcemu.Options{SecretID: "AKIDexample", SecretKey: "example-key"})
	sample, err := tcemu.LoadSamples(emu, time.Now())
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()

	p := profile.NewClientProfile()
	p.HttpProfile.Endpoint = strings.TrimPrefix(srv.URL, "http://")
	p.HttpProfile.Scheme = "http"
	client := common.NewCommonClient(common.NewCredential("AKIDexample", "example-key"), "", p)

	// The detail lags the push in real CCC: the first call does not find it.
	emu.HideSession(sample.SessionID, 1)
	now := time.Now().Unix()
	for range 2 {
		req := tchttp.NewCommonRequest("ccc", "2020-02-10", "DescribeSessionDetail")
		req.SetActionParameters(map[string]any{
			"SdkAppId": sample.SdkAppID, "SessionId": sample.SessionID,
			"StartTimestamp": now - 3600, "EndTimestamp": now,
		})
		resp := tchttp.NewCommonResponse()
		if err := client.Send(req, resp); err != nil {
			fmt.Println(err.(*tcerr.TencentCloudSDKError).GetCode())
			continue
		}
		fmt.Println(strings.Contains(string(resp.GetBody()), `"EndStatus":1`))
	}
	fmt.Println(emu.Calls("DescribeSessionDetail"))
	// Output:
	// FailedOperation.SessionNotExists
	// true
	// 2
}
