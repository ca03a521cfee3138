<?php
// Drives our simulator with PHP's own SoapClient in non-WSDL mode, the way HiperusLib calls the
// platform: SoapClient(null, [uri, location]) and ->request(realm, action, stdClass args, sessid).
// Prints one JSON document with what PHP decoded, for the Python test to check.
// Usage: php soapclient_calls.php <location> <username> <password> <domain>
$location = $argv[1];
$uri = 'https://backend.hiperus.pl:8080/hiperusapi.php';
$client = new SoapClient(null, array('uri' => $uri, 'location' => $location, 'trace' => 1));
$out = array();

function args($fields) {
    $o = new stdClass();
    foreach ($fields as $k => $v) { $o->$k = $v; }
    return $o;
}

$login = $client->request('PLATFORM_MNGM', 'Login', args(array('username' => $argv[2], 'password' => $argv[3], 'domain' => $argv[4])), null);
$out['login_class'] = get_class($login);
$out['login_success'] = $login->success;
$sessid = $login->sessid;
$out['request_sample'] = $client->__getLastRequest();

$check = $client->request('PLATFORM_MNGM', 'CheckLogin', new stdClass(), $sessid);
$out['check_sessid_matches'] = ($check->sessid === $sessid);
$out['check_logged'] = $check->result_set[0]['logged'];
$out['check_wlr'] = $check->result_set[0]['wlr_services'];

$list = $client->request('PLATFORM_MNGM', 'GetCustomerList', args(array('offset' => null, 'limit' => null, 'query' => null)), $sessid);
$out['customers'] = count($list->result_set);
$out['customer_row_is_array'] = is_array($list->result_set[0]);
$out['first_customer_name'] = $list->result_set[0]['name'];

$add = $client->request('PLATFORM_MNGM', 'AddCustomer', args(array('name' => 'PHP Klient', 'ext_billing_id' => 77, 'issue_invoice' => true)), $sessid);
$out['add_customer_row_is_object'] = is_object($add->result_set[0]);
$cid = $add->result_set[0]->id;
$out['new_customer_id'] = $cid;

$pl = $client->request('PLATFORM_MNGM', 'GetCustomerPricelistList', new stdClass(), $sessid);
$term = $client->request('PLATFORM_MNGM', 'AddTerminal', args(array('id_customer' => $cid, 'username' => 'phpterm', 'password' => 'x1', 'id_pricelist' => $pl->result_set[0]['id'], 'screen_numbers' => true, 't38_fax' => false)), $sessid);
$out['add_terminal_row_is_object'] = is_object($term->result_set[0]);
$tid = $term->result_set[0]->id_terminal;

$free = $client->request('PLATFORM_MNGM', 'GetFirstFreePlatformNumber', args(array('sn' => null)), $sessid);
$number = $free->result_set[0]['free_number'];
$ext = $client->request('PLATFORM_MNGM', 'AddExtension', args(array('number' => $number, 'country_code' => $free->result_set[0]['country_code'], 'id_customer' => $cid, 'is_main' => true, 'clir' => false, 'virtual_fax' => false, 'id_terminal' => $tid, 'id_auth' => null, 'useremail' => null, 'userpassword' => null, 'id_subscription' => null)), $sessid);
$eid = $ext->result_set[0]['id_extension'];
$data = $client->request('PLATFORM_MNGM', 'GetExtensionData', args(array('id_extension' => $eid)), $sessid);
$out['extension_terminal'] = $data->result_set[0]['terminal_name'];
$out['extension_number'] = $data->result_set[0]['number'];

$bill = $client->request('PLATFORM_MNGM', 'GetBilling', args(array('from' => '2024-01-01', 'to' => '2024-01-02', 'offset' => null, 'limit' => null, 'compress' => false, 'success_calls' => true, 'calltype' => 'outgoing', 'id_customer' => null)), $sessid);
$out['billing_rows'] = count($bill->result_set);
$out['billing_first'] = $bill->result_set[0];

$empty = $client->request('PLATFORM_MNGM', 'GetInvoiceList', new stdClass(), $sessid);
$out['invoice_list'] = $empty->result_set;

$bad = $client->request('PLATFORM_MNGM', 'GetCustomerData', args(array('id_customer' => 1)), $sessid);
$out['refused_success'] = $bad->success;
$out['refused_message'] = $bad->error_message;

$stale = $client->request('PLATFORM_MNGM', 'GetCustomerList', new stdClass(), 'stale-session');
$out['stale_success'] = $stale->success;

$client->request('PLATFORM_MNGM', 'Logout', new stdClass(), $sessid);
$after = $client->request('PLATFORM_MNGM', 'CheckLogin', new stdClass(), $sessid);
$out['logged_after_logout'] = $after->result_set[0]['logged'];

try {
    $client->__soapCall('nosuchmethod', array(1));
    $out['fault'] = null;
} catch (SoapFault $f) {
    $out['fault'] = $f->faultcode . ': ' . $f->getMessage();
}
echo json_encode($out), "\n";
